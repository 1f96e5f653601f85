{#- Learnings recorded up to `learnings_lookback_weeks` before a week are offered to it. -#}
{%- set lookback_weeks = var('learnings_lookback_weeks', 12) | int -%}

with

learnings as (

    select
        learning_id,
        week,
        manager_id,
        rep_id,
        kind,
        is_shareable,
        tags,
        stage_name,
        industry,
        opportunity_id
    from {{ ref('fct_learnings') }}

),

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
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}

),

-- Every learning a pair may see in a week: recorded for an earlier week inside the lookback,
-- and shareable or the pair's own. A private entry never reaches another pair.
offered as (

    select
        pairs.pair_id,
        pairs.manager_id,
        pairs.rep_id,
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        learnings.learning_id,
        learnings.week as learning_week,
        learnings.kind,
        learnings.is_shareable,
        learnings.tags,
        learnings.stage_name,
        learnings.industry,
        learnings.opportunity_id,
        coalesce(
            learnings.manager_id = pairs.manager_id and learnings.rep_id = pairs.rep_id, false
        ) as is_own_pair
    from pairs
    cross join weeks
    inner join learnings
        on
            weeks.week > learnings.week
            and {{ iso_week_label(add_days('weeks.week_start', -7 * lookback_weeks)) }}
            <= learnings.week
    where
        learnings.is_shareable
        or (learnings.manager_id = pairs.manager_id and learnings.rep_id = pairs.rep_id)

),

final as (

    select * from offered

)

select * from final
