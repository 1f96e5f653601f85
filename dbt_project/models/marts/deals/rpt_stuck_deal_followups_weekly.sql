{#- "Since our last 1:1": what became of last week's stuck deals, and which got stuck this
    week. See the `stuck_deal_followup` doc block. -#}
with

pairs as (

    select
        pair_id,
        manager_id,
        rep_id
    from {{ ref('dim_sales_pairs') }}

),

weeks as (

    select
        week,
        week_start
    from {{ ref('int_weeks_enumerated') }}

),

deals as (

    select
        opportunity_id,
        week,
        week_start,
        week_end,
        rep_id,
        opportunity_name,
        account_name,
        amount,
        close_date,
        stage_start,
        stage_end,
        movement,
        is_open_end,
        is_stuck,
        stuck_reasons,
        days_in_stage
    from {{ ref('fct_deal_movement_weekly') }}
    where {{ in_build_window('week') }}

),

-- Every stuck week of every deal: the window's first week looks one week back, and a streak
-- counts weeks from before the window.
streaks as (

    select
        opportunity_id,
        week,
        stuck_reasons,
        stuck_weeks,
        stuck_since_week
    from {{ ref('int_stuck_deals_streaked') }}

),

-- The week before each week; the first week of int_weeks_enumerated has none (nothing was
-- stuck before).
previous_weeks as (

    select
        week,
        lag(week) over (order by week_start) as previous_week
    from weeks

),

followed as (

    select
        deals.*,
        previous_weeks.previous_week,
        current_streaks.stuck_weeks as stuck_weeks_now,
        current_streaks.stuck_since_week as stuck_since_week_now,
        previous_streaks.stuck_weeks as stuck_weeks_before,
        previous_streaks.stuck_since_week as stuck_since_week_before,
        previous_streaks.stuck_reasons as previous_stuck_reasons
    from deals
    inner join previous_weeks
        on deals.week = previous_weeks.week
    left join streaks as current_streaks
        on
            deals.opportunity_id = current_streaks.opportunity_id
            and deals.week = current_streaks.week
    left join streaks as previous_streaks
        on
            deals.opportunity_id = previous_streaks.opportunity_id
            and previous_weeks.previous_week = previous_streaks.week
    where deals.is_stuck or previous_streaks.opportunity_id is not null

),

-- First match wins: a deal stuck at W-1 that closed, moved its stage forward, is still stuck,
-- or none of those (unstuck); a deal stuck at W only is newly stuck.
classified as (

    select
        *,
        case
            when stuck_weeks_before is null then 'newly_stuck'
            when movement = 'won' then 'won'
            when movement = 'lost' then 'lost'
            when movement = 'advanced' then 'advanced'
            when is_stuck then 'still_stuck'
            else 'unstuck'
        end as outcome
    from followed

),

final as (

    select
        pairs.pair_id,
        pairs.manager_id,
        classified.rep_id,
        classified.opportunity_id,
        classified.week,
        classified.week_start,
        classified.week_end,
        classified.opportunity_name,
        classified.account_name,
        classified.amount,
        classified.close_date,
        classified.stage_start,
        classified.stage_end,
        cast(classified.movement as {{ text_type() }}) as movement,
        cast(classified.outcome as {{ text_type() }}) as outcome,
        classified.stuck_weeks_before is not null as was_stuck_last_week,
        classified.is_stuck,
        classified.is_open_end,
        cast(coalesce(classified.previous_stuck_reasons, '') as {{ text_type() }})
            as previous_stuck_reasons,
        classified.stuck_reasons,
        classified.days_in_stage,
        cast(
            coalesce(classified.stuck_weeks_now, classified.stuck_weeks_before) as integer
        ) as stuck_weeks,
        cast(
            coalesce(classified.stuck_since_week_now, classified.stuck_since_week_before)
            as {{ text_type() }}
        ) as stuck_since_week,
        coalesce(
            classified.is_stuck
            and classified.stuck_weeks_now >= {{ deals_rule('close_it_or_kill_it_weeks') }},
            false
        ) as is_close_it_or_kill_it
    from classified
    inner join pairs
        on classified.rep_id = pairs.rep_id

)

select * from final
