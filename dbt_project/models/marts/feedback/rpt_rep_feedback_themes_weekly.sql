with

mentions as (

    select
        week,
        week_start,
        week_end,
        rep_id,
        theme_key,
        mention_kind,
        amount
    from {{ ref('rpt_feedback_mentions_weekly') }}
    where
        mention_kind in ('loss_reason', 'next_step')
        and theme_key is not null
        and {{ in_build_window('week') }}

),

themes as (

    select
        theme_key,
        theme_label,
        escalate_to
    from {{ ref('feedback_themes') }}

),

counted as (

    select
        rep_id,
        week,
        week_start,
        week_end,
        theme_key,
        sum(case when mention_kind = 'loss_reason' then 1 else 0 end) as lost_deals,
        coalesce(sum(case when mention_kind = 'loss_reason' then amount end), 0) as lost_amount,
        sum(case when mention_kind = 'next_step' then 1 else 0 end) as next_step_mentions,
        count(*) as mentions
    from mentions
    group by
        rep_id,
        week,
        week_start,
        week_end,
        theme_key

),

-- Escalation counts losses alone: a loss reason is the buyer's verdict, while a next step is the
-- rep's plan and names a theme in the normal course of a sale (walking a buyer through the
-- implementation plan is no complaint yet).
escalated as (

    select
        counted.*,
        themes.theme_label,
        themes.escalate_to,
        {{ is_escalated('themes.escalate_to', 'counted.lost_deals') }} as is_escalated
    from counted
    inner join themes
        on counted.theme_key = themes.theme_key

),

ranked as (

    select
        escalated.*,
        row_number() over (
            partition by escalated.rep_id, escalated.week
            order by
                escalated.mentions desc,
                escalated.lost_amount desc,
                escalated.theme_key asc
        ) as theme_rank
    from escalated

),

final as (

    select
        cast(rep_id as {{ text_type() }}) as rep_id,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        week_end,
        cast(theme_key as {{ text_type() }}) as theme_key,
        cast(theme_label as {{ text_type() }}) as theme_label,
        cast(escalate_to as {{ text_type() }}) as escalate_to,
        cast(lost_deals as integer) as lost_deals,
        cast(lost_amount as {{ double_type() }}) as lost_amount,
        cast(next_step_mentions as integer) as next_step_mentions,
        cast(mentions as integer) as mentions,
        is_escalated,
        cast(theme_rank as integer) as theme_rank
    from ranked

)

select * from final
