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
        mention_kind in ('loss_reason', 'feedback')
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
        week,
        week_start,
        week_end,
        theme_key,
        sum(case when mention_kind = 'loss_reason' then 1 else 0 end) as lost_deals,
        coalesce(sum(case when mention_kind = 'loss_reason' then amount end), 0) as lost_amount,
        count(distinct case when mention_kind = 'loss_reason' then rep_id end) as reps,
        sum(case when mention_kind = 'feedback' then 1 else 0 end) as feedback_entries,
        count(*) as mentions
    from mentions
    group by
        week,
        week_start,
        week_end,
        theme_key

),

-- Across teams, what the field reports counts as much as what buyers said: losses and shared
-- feedback together escalate a theme. A theme a learning names in its own words has its own
-- label and no one to take it to.
escalated as (

    select
        counted.*,
        coalesce(themes.theme_label, {{ capitalized('counted.theme_key') }}) as theme_label,
        themes.escalate_to,
        {{ is_escalated('themes.escalate_to', 'counted.mentions') }} as is_escalated
    from counted
    left join themes
        on counted.theme_key = themes.theme_key

),

ranked as (

    select
        escalated.*,
        row_number() over (
            partition by escalated.week
            order by
                escalated.is_escalated desc,
                escalated.mentions desc,
                escalated.lost_amount desc,
                escalated.theme_label asc
        ) as escalation_rank
    from escalated

),

final as (

    select
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        week_end,
        cast(theme_key as {{ text_type() }}) as theme_key,
        cast(theme_label as {{ text_type() }}) as theme_label,
        cast(escalate_to as {{ text_type() }}) as escalate_to,
        cast(lost_deals as integer) as lost_deals,
        cast(lost_amount as {{ double_type() }}) as lost_amount,
        cast(reps as integer) as reps,
        cast(feedback_entries as integer) as feedback_entries,
        cast(mentions as integer) as mentions,
        is_escalated,
        cast(escalation_rank as integer) as escalation_rank
    from ranked

)

select * from final
