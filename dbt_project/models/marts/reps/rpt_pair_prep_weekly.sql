{%- set metrics = activity_metrics() -%}

with

pairs as (

    select
        pair_id,
        manager_id,
        manager_name,
        rep_id,
        rep_name
    from {{ ref('dim_sales_pairs') }}

),

rep_activity as (

    select
        rep_id,
        week,
        week_start,
        week_end,
        {{ metrics | join(',\n        ') }}
    from {{ ref('fct_rep_activity_weekly') }}
    where {{ in_build_window('week') }}

),

rep_quota as (

    select
        rep_id,
        week,
        quarter_start,
        quarter_end,
        quarter_label,
        quota_amount,
        won_to_date,
        attainment,
        elapsed,
        pacing,
        open_pipeline,
        coverage,
        is_below_pacing,
        weeks_below_pacing,
        performance_conversation_recommended
    from {{ ref('fct_rep_quota_weekly') }}
    where {{ in_build_window('week') }}

),

deal_movement as (

    select
        rep_id,
        week,
        movement,
        is_stuck
    from {{ ref('fct_deal_movement_weekly') }}
    where {{ in_build_window('week') }}

),

fast_movers as (

    select
        rep_id,
        week,
        opportunity_id
    from {{ ref('fct_fast_movers_weekly') }}
    where {{ in_build_window('week') }}

),

-- The deal counts a packet headline shows; `moved` is every movement but `unchanged`.
deal_counts as (

    select
        rep_id,
        week,
        count(*) as deals_with_movement,
        sum(case when movement <> 'unchanged' then 1 else 0 end) as deals_moved,
        sum(case when movement = 'new' then 1 else 0 end) as deals_new,
        sum(case when movement = 'advanced' then 1 else 0 end) as deals_advanced,
        sum(case when movement = 'regressed' then 1 else 0 end) as deals_regressed,
        sum(case when movement = 'won' then 1 else 0 end) as deals_won,
        sum(case when movement = 'lost' then 1 else 0 end) as deals_lost,
        sum(case when movement = 'reopened' then 1 else 0 end) as deals_reopened,
        sum(case when is_stuck then 1 else 0 end) as deals_stuck
    from deal_movement
    group by rep_id, week

),

fast_mover_counts as (

    select
        rep_id,
        week,
        count(distinct opportunity_id) as fast_movers
    from fast_movers
    group by rep_id, week

),

final as (

    select
        pairs.pair_id,
        pairs.manager_id,
        pairs.manager_name,
        pairs.rep_id,
        pairs.rep_name,
        rep_activity.week,
        rep_activity.week_start,
        rep_activity.week_end,
        {% for metric in metrics -%}
        rep_activity.{{ metric }},
        {% endfor -%}
        rep_quota.quarter_start,
        rep_quota.quarter_end,
        rep_quota.quarter_label,
        rep_quota.quota_amount,
        rep_quota.won_to_date,
        rep_quota.attainment,
        rep_quota.elapsed,
        rep_quota.pacing,
        rep_quota.open_pipeline,
        rep_quota.coverage,
        rep_quota.is_below_pacing,
        rep_quota.weeks_below_pacing,
        coalesce(rep_quota.performance_conversation_recommended, false)
            as performance_conversation_recommended,
        cast(coalesce(deal_counts.deals_with_movement, 0) as integer) as deals_with_movement,
        cast(coalesce(deal_counts.deals_moved, 0) as integer) as deals_moved,
        cast(coalesce(deal_counts.deals_new, 0) as integer) as deals_new,
        cast(coalesce(deal_counts.deals_advanced, 0) as integer) as deals_advanced,
        cast(coalesce(deal_counts.deals_regressed, 0) as integer) as deals_regressed,
        cast(coalesce(deal_counts.deals_won, 0) as integer) as deals_won,
        cast(coalesce(deal_counts.deals_lost, 0) as integer) as deals_lost,
        cast(coalesce(deal_counts.deals_reopened, 0) as integer) as deals_reopened,
        cast(coalesce(deal_counts.deals_stuck, 0) as integer) as deals_stuck,
        cast(coalesce(fast_mover_counts.fast_movers, 0) as integer) as fast_movers
    from pairs
    inner join rep_activity
        on pairs.rep_id = rep_activity.rep_id
    left join rep_quota
        on
            rep_activity.rep_id = rep_quota.rep_id
            and rep_activity.week = rep_quota.week
    left join deal_counts
        on
            rep_activity.rep_id = deal_counts.rep_id
            and rep_activity.week = deal_counts.week
    left join fast_mover_counts
        on
            rep_activity.rep_id = fast_mover_counts.rep_id
            and rep_activity.week = fast_mover_counts.week

)

select * from final
