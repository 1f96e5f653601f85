with

weeks as (

    select
        week,
        week_end_at
    from {{ ref('int_weeks_enumerated') }}
    where {{ in_build_window('week') }}

),

stage_runs as (

    select
        stage_name,
        exited_at,
        days_in_stage
    from {{ ref('int_stage_runs_timed') }}
    where exited_at is not null

),

stages as (

    select stage_name from {{ ref('int_opportunity_stages_ordered') }}

),

stage_names as (

    select stage_name from stages
    union distinct
    select stage_name from stage_runs

),

-- Runs of any deal that left the stage in the lookback window before week_end.
exits_in_window as (

    select
        weeks.week,
        stage_runs.stage_name,
        stage_runs.days_in_stage
    from weeks
    inner join stage_runs
        on
            stage_runs.exited_at
            >= {{ deals_days_before('weeks.week_end_at', deals_rule('stage_exit_lookback_days')) }}
            and stage_runs.exited_at < weeks.week_end_at

),

exit_stats as (

    select
        week,
        stage_name,
        count(*) as exits,
        {{ median('days_in_stage') }} as median_days
    from exits_in_window
    group by week, stage_name

),

grid as (

    select
        weeks.week,
        stage_names.stage_name
    from weeks
    cross join stage_names

),

final as (

    select
        grid.week || '-' || grid.stage_name as stage_week_key,
        grid.week,
        grid.stage_name,
        cast(coalesce(exit_stats.exits, 0) as integer) as exits_in_lookback,
        cast(exit_stats.median_days as {{ double_type() }}) as median_days_in_stage,
        case
            when coalesce(exit_stats.exits, 0) < {{ deals_rule('stuck_min_exits') }}
                then 'fallback'
            else 'median'
        end as threshold_rule,
        cast(
            case
                when coalesce(exit_stats.exits, 0) < {{ deals_rule('stuck_min_exits') }}
                    then {{ deals_rule('stuck_fallback_days') }}
                else greatest(
                        {{ deals_rule('stuck_min_days') }},
                        {{ deals_rule('stuck_median_factor') }} * exit_stats.median_days
                    )
            end as {{ double_type() }}
        ) as stage_threshold_days
    from grid
    left join exit_stats
        on
            grid.week = exit_stats.week
            and grid.stage_name = exit_stats.stage_name

)

select * from final
