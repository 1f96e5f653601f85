{#- Every deal-week in which a deal is stuck, with the run of consecutive stuck weeks it
    belongs to. It reads every week of fct_deal_movement_weekly, not only the build window: a
    streak that began before the window must count its earlier weeks, and the mart keeps them
    (decision 11), so a weekly incremental run and a full build agree. -#}
with

weeks as (

    select
        week,
        week_start
    from {{ ref('int_weeks') }}

),

stuck_deals as (

    select
        opportunity_id,
        week,
        stuck_reasons
    from {{ ref('fct_deal_movement_weekly') }}
    where is_stuck

),

indexed_weeks as (

    select
        week,
        cast(row_number() over (order by week_start) as integer) as week_index
    from weeks

),

-- Gaps and islands: consecutive weeks of one deal share week_index - row number, so a week the
-- deal is not stuck (or has no row) starts a new run.
islands as (

    select
        stuck_deals.opportunity_id,
        stuck_deals.week,
        stuck_deals.stuck_reasons,
        indexed_weeks.week_index,
        indexed_weeks.week_index - cast(
            row_number() over (
                partition by stuck_deals.opportunity_id order by indexed_weeks.week_index
            ) as integer
        ) as island
    from stuck_deals
    inner join indexed_weeks
        on stuck_deals.week = indexed_weeks.week

),

streaked as (

    select
        opportunity_id,
        week,
        week_index,
        stuck_reasons,
        cast(
            row_number() over (partition by opportunity_id, island order by week_index)
            as integer
        ) as stuck_weeks,
        min(week) over (partition by opportunity_id, island) as stuck_since_week
    from islands

),

final as (

    select
        opportunity_id || '-' || week as opportunity_week_key,
        opportunity_id,
        week,
        week_index,
        stuck_reasons,
        stuck_weeks,
        stuck_since_week
    from streaked

)

select * from final
