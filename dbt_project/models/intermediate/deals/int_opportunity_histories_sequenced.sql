with

opportunity_history as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        amount,
        amount_original,
        currency_iso_code,
        close_date,
        forecast_category,
        created_at
    from {{ ref('int_opportunity_histories_converted') }}

),

-- History of deleted, unknown or out-of-scope opportunities is already left out; rows without
-- a stage or time carry no state.
usable_history as (

    select *
    from opportunity_history
    where
        stage_name is not null
        and created_at is not null

),

-- Rows with the same CreatedDate are ordered by Id, so "the last row before t" is deterministic.
sequenced as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        amount,
        amount_original,
        currency_iso_code,
        close_date,
        forecast_category,
        created_at,
        row_number() over (
            partition by opportunity_id order by created_at, opportunity_history_id
        ) as history_sequence,
        lag(stage_name) over (
            partition by opportunity_id order by created_at, opportunity_history_id
        ) as previous_stage_name,
        lead(created_at) over (
            partition by opportunity_id order by created_at, opportunity_history_id
        ) as next_created_at
    from usable_history

),

-- Gaps and islands: consecutive rows in the same stage form one stage run.
run_starts as (

    select
        *,
        case when previous_stage_name = stage_name then 0 else 1 end as is_stage_run_start
    from sequenced

),

runs_numbered as (

    select
        *,
        sum(is_stage_run_start) over (
            partition by opportunity_id
            order by history_sequence
            rows between unbounded preceding and current row
        ) as stage_run_number
    from run_starts

),

final as (

    select
        opportunity_history_id,
        opportunity_id,
        history_sequence,
        stage_name,
        amount,
        amount_original,
        currency_iso_code,
        close_date,
        forecast_category,
        created_at,
        next_created_at,
        cast(stage_run_number as integer) as stage_run_number,
        min(created_at) over (
            partition by opportunity_id, stage_run_number
        ) as stage_run_entered_at
    from runs_numbered

)

select * from final
