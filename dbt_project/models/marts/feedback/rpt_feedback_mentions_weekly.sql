{%- set digest_weeks = digest_weeks() -%}

with

weeks as (

    select
        week,
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}
    where {{ in_build_window('week') }}

),

recent_losses as (

    select
        week,
        lost_week,
        opportunity_id,
        rep_id,
        opportunity_name,
        amount,
        loss_reason,
        theme_key
    from {{ ref('int_recent_losses_themed') }}
    where {{ in_build_window('week') }}

),

next_steps as (

    select
        opportunity_id,
        week,
        rep_id,
        opportunity_name,
        amount,
        stage_end,
        next_step,
        theme_key
    from {{ ref('int_next_steps_themed') }}
    where {{ in_build_window('week') }}

),

learnings as (

    select
        learning_id,
        week,
        rep_id,
        kind,
        theme,
        body,
        is_shareable
    from {{ ref('fct_learnings') }}

),

learning_themes as (

    select
        learning_id,
        theme_key
    from {{ ref('int_learnings_themed') }}

),

-- Deals lost in the feedback weeks up to the week, by the themes their loss reasons name.
loss_mentions as (

    select
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        'loss_reason' as mention_kind,
        recent_losses.theme_key,
        recent_losses.rep_id,
        recent_losses.opportunity_id as source_id,
        recent_losses.opportunity_name,
        recent_losses.amount,
        cast(null as {{ text_type() }}) as stage_name,
        recent_losses.lost_week as mention_week,
        recent_losses.loss_reason as mention_text,
        row_number() over (
            partition by weeks.week, recent_losses.theme_key
            order by
                recent_losses.lost_week desc,
                recent_losses.amount desc nulls last,
                recent_losses.opportunity_id asc
        ) as mention_rank
    from weeks
    inner join recent_losses
        on weeks.week = recent_losses.week

),

-- Deals open at week end whose next step names a theme.
open_next_steps as (

    select
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        'next_step' as mention_kind,
        next_steps.theme_key,
        next_steps.rep_id,
        next_steps.opportunity_id as source_id,
        next_steps.opportunity_name,
        next_steps.amount,
        next_steps.stage_end as stage_name,
        next_steps.week as mention_week,
        next_steps.next_step as mention_text,
        row_number() over (
            partition by weeks.week, next_steps.theme_key
            order by next_steps.amount desc nulls last, next_steps.opportunity_id asc
        ) as mention_rank
    from weeks
    inner join next_steps
        on weeks.week = next_steps.week

),

-- Field feedback pairs shared after the 1:1s of the digest weeks before the week; private
-- entries never leave their pair, so they are not here.
shared_feedback as (

    select
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        'feedback' as mention_kind,
        learning_themes.theme_key,
        learnings.rep_id,
        learnings.learning_id as source_id,
        cast(null as {{ text_type() }}) as opportunity_name,
        cast(null as {{ double_type() }}) as amount,
        cast(null as {{ text_type() }}) as stage_name,
        learnings.week as mention_week,
        learnings.body as mention_text,
        row_number() over (
            partition by weeks.week, learning_themes.theme_key
            order by learnings.week desc, learnings.theme asc, learnings.learning_id asc
        ) as mention_rank
    from weeks
    inner join learnings
        on
            weeks.week > learnings.week
            and {{ iso_week_label(add_days('weeks.week_start', -7 * digest_weeks)) }}
            <= learnings.week
    inner join learning_themes
        on learnings.learning_id = learning_themes.learning_id
    where learnings.kind = 'feedback' and learnings.is_shareable

),

mentions as (

    select * from loss_mentions
    union all
    select * from open_next_steps
    union all
    select * from shared_feedback

),

final as (

    select
        cast(
            week || '|' || mention_kind || '|' || source_id || '|' || mention_week
            || '|' || coalesce(theme_key, '')
            as {{ text_type() }}
        ) as mention_key,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        week_end,
        cast(theme_key as {{ text_type() }}) as theme_key,
        cast(mention_kind as {{ text_type() }}) as mention_kind,
        cast(rep_id as {{ text_type() }}) as rep_id,
        cast(source_id as {{ text_type() }}) as source_id,
        cast(opportunity_name as {{ text_type() }}) as opportunity_name,
        cast(amount as {{ double_type() }}) as amount,
        cast(stage_name as {{ text_type() }}) as stage_name,
        cast(mention_week as {{ text_type() }}) as mention_week,
        cast(mention_text as {{ text_type() }}) as mention_text,
        cast(mention_rank as integer) as mention_rank
    from mentions

)

select * from final
