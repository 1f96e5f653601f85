{#- The team's field-feedback themes on the manager's team page: the reps' own themes
    (rpt_rep_feedback_themes_weekly) summed over the manager's reps. -#}
with

rep_themes as (

    select
        rep_id,
        week,
        week_start,
        week_end,
        theme_key,
        theme_label,
        escalate_to,
        lost_deals,
        lost_amount,
        next_step_mentions,
        mentions
    from {{ ref('rpt_rep_feedback_themes_weekly') }}
    where {{ in_build_window('week') }}

),

pairs as (

    select
        manager_id,
        rep_id
    from {{ ref('dim_sales_pairs') }}

),

counted as (

    select
        pairs.manager_id,
        rep_themes.week,
        rep_themes.week_start,
        rep_themes.week_end,
        rep_themes.theme_key,
        rep_themes.theme_label,
        rep_themes.escalate_to,
        count(distinct rep_themes.rep_id) as reps,
        sum(rep_themes.lost_deals) as lost_deals,
        sum(rep_themes.lost_amount) as lost_amount,
        sum(rep_themes.next_step_mentions) as next_step_mentions,
        sum(rep_themes.mentions) as mentions
    from rep_themes
    inner join pairs
        on rep_themes.rep_id = pairs.rep_id
    group by
        pairs.manager_id,
        rep_themes.week,
        rep_themes.week_start,
        rep_themes.week_end,
        rep_themes.theme_key,
        rep_themes.theme_label,
        rep_themes.escalate_to

),

-- As for a rep, losses alone escalate a theme (see `feedback_theme`), here the team's together.
ranked as (

    select
        *,
        {{ is_escalated('escalate_to', 'lost_deals') }} as is_escalated,
        row_number() over (
            partition by manager_id, week
            order by
                mentions desc,
                lost_amount desc,
                theme_key asc
        ) as theme_rank
    from counted

),

final as (

    select
        cast(manager_id as {{ text_type() }}) as manager_id,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        week_end,
        cast(theme_key as {{ text_type() }}) as theme_key,
        cast(theme_label as {{ text_type() }}) as theme_label,
        cast(escalate_to as {{ text_type() }}) as escalate_to,
        cast(reps as integer) as reps,
        cast(lost_deals as integer) as lost_deals,
        cast(lost_amount as {{ double_type() }}) as lost_amount,
        cast(next_step_mentions as integer) as next_step_mentions,
        cast(mentions as integer) as mentions,
        is_escalated,
        cast(theme_rank as integer) as theme_rank
    from ranked

)

select * from final
