with

history as (

    select
        opportunity_id,
        stage_run_number,
        stage_name,
        created_at
    from {{ ref('int_opportunity_histories_sequenced') }}

),

opportunities as (

    select
        opportunity_id,
        stage_name,
        created_at
    from {{ ref('int_opportunities_scoped') }}

),

history_runs as (

    select
        opportunity_id,
        stage_run_number,
        min(stage_name) as stage_name,
        min(created_at) as entered_at
    from history
    group by opportunity_id, stage_run_number

),

-- A run is left when the next run starts.
history_runs_with_exit as (

    select
        opportunity_id,
        stage_run_number,
        stage_name,
        entered_at,
        lead(entered_at) over (
            partition by opportunity_id order by stage_run_number
        ) as exited_at,
        lead(stage_name) over (
            partition by opportunity_id order by stage_run_number
        ) as next_stage_name
    from history_runs

),

-- Without any history row a deal has been in its current stage since CreatedDate.
record_runs as (

    select
        opportunities.opportunity_id,
        1 as stage_run_number,
        opportunities.stage_name,
        opportunities.created_at as entered_at,
        cast(null as timestamp) as exited_at,
        cast(null as {{ text_type() }}) as next_stage_name
    from opportunities
    where
        opportunities.stage_name is not null
        and not exists (
            select 1 from history
            where history.opportunity_id = opportunities.opportunity_id
        )

),

all_runs as (

    select * from history_runs_with_exit
    union all
    select * from record_runs

),

final as (

    select
        opportunity_id || '-' || cast(stage_run_number as {{ text_type() }}) as stage_run_key,
        opportunity_id,
        cast(stage_run_number as integer) as stage_run_number,
        stage_name,
        entered_at,
        exited_at,
        next_stage_name,
        case
            when exited_at is not null then {{ deals_whole_days('entered_at', 'exited_at') }}
        end as days_in_stage
    from all_runs

)

select * from final
