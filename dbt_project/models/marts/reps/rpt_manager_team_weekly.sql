{#- The manager's team page: one row per rep of the manager per week, in the order to prepare
    the 1:1s. See the `team_attention_order` doc block. -#}
with

prep as (

    select
        pair_id,
        manager_id,
        manager_name,
        rep_id,
        rep_name,
        week,
        week_start,
        week_end,
        quarter_label,
        quota_amount,
        attainment,
        pacing,
        open_pipeline,
        coverage,
        is_below_pacing,
        weeks_below_pacing,
        performance_conversation_recommended
    from {{ ref('rpt_pair_prep_weekly') }}
    where {{ in_build_window('week') }}

),

followups as (

    select
        pair_id,
        week,
        outcome,
        is_stuck,
        amount,
        is_close_it_or_kill_it
    from {{ ref('rpt_stuck_deal_followups_weekly') }}
    where {{ in_build_window('week') }}

),

actions as (

    select
        pair_id,
        week,
        status
    from {{ ref('rpt_pair_actions_weekly') }}
    where {{ in_build_window('week') }}

),

stuck_counts as (

    select
        pair_id,
        week,
        sum(case when is_stuck then 1 else 0 end) as stuck_deals,
        sum(case when is_stuck then coalesce(amount, 0) else 0 end) as stuck_amount,
        sum(case when outcome = 'newly_stuck' then 1 else 0 end) as newly_stuck_deals,
        sum(case when is_close_it_or_kill_it then 1 else 0 end) as close_it_or_kill_it_deals
    from followups
    group by pair_id, week

),

action_counts as (

    select
        pair_id,
        week,
        sum(case when status = 'open' then 1 else 0 end) as open_actions,
        sum(case when status = 'overdue' then 1 else 0 end) as overdue_actions,
        sum(case when status = 'done' then 1 else 0 end) as done_actions
    from actions
    group by pair_id, week

),

counted as (

    select
        prep.*,
        cast(coalesce(stuck_counts.stuck_deals, 0) as integer) as stuck_deals,
        cast(coalesce(stuck_counts.stuck_amount, 0) as {{ double_type() }}) as stuck_amount,
        cast(coalesce(stuck_counts.newly_stuck_deals, 0) as integer) as newly_stuck_deals,
        cast(coalesce(stuck_counts.close_it_or_kill_it_deals, 0) as integer)
            as close_it_or_kill_it_deals,
        cast(coalesce(action_counts.open_actions, 0) as integer) as open_actions,
        cast(coalesce(action_counts.overdue_actions, 0) as integer) as overdue_actions,
        cast(coalesce(action_counts.done_actions, 0) as integer) as done_actions
    from prep
    left join stuck_counts
        on
            prep.pair_id = stuck_counts.pair_id
            and prep.week = stuck_counts.week
    left join action_counts
        on
            prep.pair_id = action_counts.pair_id
            and prep.week = action_counts.week

),

-- Who needs attention first: the performance conversation, then deals to close or kill, then
-- overdue actions, then the lowest pacing (reps without a quota last), then by name.
ranked as (

    select
        *,
        cast(
            row_number() over (
                partition by manager_id, week
                order by
                    case when performance_conversation_recommended then 0 else 1 end asc,
                    close_it_or_kill_it_deals desc,
                    overdue_actions desc,
                    case when pacing is null then 1 else 0 end asc,
                    pacing asc,
                    rep_name asc,
                    rep_id asc
            ) as integer
        ) as attention_rank,
        cast(
            case
                when performance_conversation_recommended then 'performance_conversation'
                when close_it_or_kill_it_deals > 0 then 'close_it_or_kill_it'
                when overdue_actions > 0 then 'overdue_actions'
                when pacing is not null then 'pacing'
                else 'none'
            end as {{ text_type() }}
        ) as attention_reason
    from counted

),

final as (

    select
        pair_id,
        manager_id,
        manager_name,
        rep_id,
        rep_name,
        week,
        week_start,
        week_end,
        attention_rank,
        attention_reason,
        quarter_label,
        quota_amount,
        attainment,
        pacing,
        open_pipeline,
        coverage,
        is_below_pacing,
        weeks_below_pacing,
        performance_conversation_recommended,
        stuck_deals,
        stuck_amount,
        newly_stuck_deals,
        close_it_or_kill_it_deals,
        open_actions,
        overdue_actions,
        done_actions
    from ranked

)

select * from final
