with

segments as (

    select
        opportunity_id,
        close_date,
        is_won,
        boundary_first,
        boundary_last
    from {{ ref('int_opportunity_states_segmented') }}
    where is_won

),

opportunities as (

    select
        opportunity_id,
        created_at
    from {{ ref('int_opportunities_scoped') }}

),

weeks as (

    select
        week,
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}

),

-- Numbered over every week (boundaries count from the first), then cut to the build window.
indexed_weeks as (

    select numbered.*
    from (
        select
            *,
            cast(row_number() over (order by week_start) as integer) as end_boundary
        from weeks
    ) as numbered
    where {{ in_build_window('numbered.week') }}

),

-- The population: every deal (any owner) that is won as of week_end with its as-of CloseDate
-- in the lookback window before week_end; the won state must cover the week_end boundary.
won_as_of_week_end as (

    select
        indexed_weeks.week,
        segments.opportunity_id,
        {{ days_between('cast(opportunities.created_at as date)', 'segments.close_date') }}
            as cycle_days
    from segments
    inner join opportunities
        on segments.opportunity_id = opportunities.opportunity_id
    inner join indexed_weeks
        on
            segments.close_date
            >= {{ add_days('indexed_weeks.week_end', -1 * deals_rule('fast_mover_lookback_days')) }}
            and segments.close_date < indexed_weeks.week_end
            and indexed_weeks.end_boundary
            between segments.boundary_first and segments.boundary_last

),

cycle_stats as (

    select
        week,
        count(*) as won_deals,
        {{ percentile_cont('cycle_days', deals_rule('fast_mover_cycle_percentile')) }}
            as cycle_percentile_days
    from won_as_of_week_end
    group by week

),

final as (

    select
        indexed_weeks.week,
        cast(coalesce(cycle_stats.won_deals, 0) as integer) as won_deals_in_lookback,
        cast(cycle_stats.cycle_percentile_days as {{ double_type() }}) as cycle_p25_days
    from indexed_weeks
    left join cycle_stats
        on indexed_weeks.week = cycle_stats.week

)

select * from final
