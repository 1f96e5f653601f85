with

states as (

    select
        opportunity_id,
        owner_id,
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        exists_at_start,
        is_open_start,
        amount_start,
        close_date_start,
        forecast_category_start,
        is_open_end,
        is_won_end,
        amount_end,
        close_date_end,
        forecast_category_end
    from {{ ref('int_opportunity_states_sampled_weekly') }}
    where {{ in_build_window('week') }}

),

weeks as (

    select
        week,
        quarter_label
    from {{ ref('int_weeks_enumerated') }}
    where {{ in_build_window('week') }}

),

-- See the `pipeline_waterfall` doc block: membership of the quarter's open pipeline at
-- week_start and at week_end, both against the quarter of the week. Deals forecast as Omitted
-- at an instant are not pipeline then, as in Salesforce forecasts.
membership as (

    select
        *,
        coalesce(
            is_open_start
            and close_date_start >= quarter_start
            and close_date_start < quarter_end
            and coalesce(forecast_category_start, '') <> 'Omitted',
            false
        ) as in_start,
        coalesce(
            is_open_end
            and close_date_end >= quarter_start
            and close_date_end < quarter_end
            and coalesce(forecast_category_end, '') <> 'Omitted',
            false
        ) as in_end,
        coalesce(amount_start, 0) as start_amount,
        coalesce(amount_end, 0) as end_amount
    from states

),

flows as (

    select
        owner_id,
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        case when in_start then start_amount else 0 end as starting_pipeline,
        case when not in_start and in_end and not exists_at_start then end_amount else 0 end
            as new_amount,
        case when not in_start and in_end and exists_at_start then end_amount else 0 end
            as pulled_in_amount,
        case
            when in_start and in_end and end_amount > start_amount then end_amount - start_amount
            else 0
        end as increased_amount,
        case when in_start and not is_open_end and is_won_end then start_amount else 0 end
            as won_amount,
        case when in_start and not is_open_end and not is_won_end then start_amount else 0 end
            as lost_amount,
        case
            when in_start and in_end and end_amount < start_amount then start_amount - end_amount
            else 0
        end as decreased_amount,
        case when in_start and is_open_end and not in_end then start_amount else 0 end
            as pushed_out_amount,
        case when in_end then end_amount else 0 end as ending_pipeline
    from membership
    where in_start or in_end

),

rep_weeks as (

    select
        owner_id as rep_id,
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        sum(starting_pipeline) as starting_pipeline,
        sum(new_amount) as new_amount,
        sum(pulled_in_amount) as pulled_in_amount,
        sum(increased_amount) as increased_amount,
        sum(won_amount) as won_amount,
        sum(lost_amount) as lost_amount,
        sum(decreased_amount) as decreased_amount,
        sum(pushed_out_amount) as pushed_out_amount,
        sum(ending_pipeline) as ending_pipeline
    from flows
    group by owner_id, week, week_start, week_end, quarter_start, quarter_end

),

final as (

    select
        cast(rep_weeks.rep_id || '-' || rep_weeks.week as {{ text_type() }}) as rep_week_key,
        rep_weeks.rep_id,
        rep_weeks.week,
        rep_weeks.week_start,
        rep_weeks.week_end,
        rep_weeks.quarter_start,
        rep_weeks.quarter_end,
        weeks.quarter_label,
        cast(rep_weeks.starting_pipeline as {{ double_type() }}) as starting_pipeline,
        cast(rep_weeks.new_amount as {{ double_type() }}) as new_amount,
        cast(rep_weeks.pulled_in_amount as {{ double_type() }}) as pulled_in_amount,
        cast(rep_weeks.increased_amount as {{ double_type() }}) as increased_amount,
        cast(rep_weeks.won_amount as {{ double_type() }}) as won_amount,
        cast(rep_weeks.lost_amount as {{ double_type() }}) as lost_amount,
        cast(rep_weeks.decreased_amount as {{ double_type() }}) as decreased_amount,
        cast(rep_weeks.pushed_out_amount as {{ double_type() }}) as pushed_out_amount,
        cast(rep_weeks.ending_pipeline as {{ double_type() }}) as ending_pipeline
    from rep_weeks
    left join weeks
        on rep_weeks.week = weeks.week

)

select * from final
