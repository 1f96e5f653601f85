{#- Learnings recorded up to `learnings_lookback_weeks` before a week are offered to it; loss
    reasons count as the rep's recent feedback for 4 weeks, as in the packets (FEEDBACK_WEEKS). -#}
{%- set lookback_weeks = var('learnings_lookback_weeks', 12) | int -%}
{%- set feedback_weeks = 4 -%}

with

learnings as (

    select
        learning_id,
        week,
        manager_id,
        manager_name,
        rep_id,
        rep_name,
        manager_slug,
        rep_slug,
        kind,
        theme,
        body,
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

deals as (

    select
        opportunity_id,
        week,
        rep_id,
        stage_end,
        industry,
        movement,
        is_open_end,
        loss_reason
    from {{ ref('fct_deal_movement_weekly') }}

),

keywords as (

    select
        theme_key,
        keyword
    from {{ ref('dim_learning_theme_keywords') }}

),

-- The feedback themes a learning's theme or tags name ...
learning_keyword_themes as (

    select distinct
        learnings.learning_id,
        keywords.theme_key
    from learnings
    inner join keywords
        on
            learnings.theme || ' ' || replace(learnings.tags, ',', ' ')
            like '%' || keywords.keyword || '%'

),

-- ... else its theme as written, so two pairs using one custom theme still meet.
learning_themes as (

    select
        learning_id,
        theme_key
    from learning_keyword_themes

    union all

    select
        learnings.learning_id,
        learnings.theme as theme_key
    from learnings
    left join learning_keyword_themes
        on learnings.learning_id = learning_keyword_themes.learning_id
    where learning_keyword_themes.learning_id is null

),

-- Every learning a pair may see in a week: recorded for an earlier week inside the lookback,
-- and shareable or the pair's own. A private entry never reaches another pair.
candidates as (

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
        learnings.theme,
        learnings.body,
        learnings.is_shareable,
        learnings.manager_id as source_manager_id,
        learnings.rep_id as source_rep_id,
        learnings.manager_name as source_manager_name,
        learnings.rep_name as source_rep_name,
        learnings.manager_slug as source_manager_slug,
        learnings.rep_slug as source_rep_slug,
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

open_deals as (

    select
        opportunity_id,
        week,
        rep_id,
        stage_end,
        industry
    from deals
    where is_open_end

),

opportunity_matches as (

    select distinct
        candidates.pair_id,
        candidates.week,
        candidates.learning_id
    from candidates
    inner join open_deals
        on
            candidates.rep_id = open_deals.rep_id
            and candidates.week = open_deals.week
            and candidates.opportunity_id = open_deals.opportunity_id

),

stage_matches as (

    select
        candidates.pair_id,
        candidates.week,
        candidates.learning_id,
        count(distinct open_deals.opportunity_id) as stage_open_deals
    from candidates
    inner join open_deals
        on
            candidates.rep_id = open_deals.rep_id
            and candidates.week = open_deals.week
            and lower(candidates.stage_name) = lower(open_deals.stage_end)
    group by
        candidates.pair_id,
        candidates.week,
        candidates.learning_id

),

-- The industry named in the front matter, or a tag equal to the industry's name.
industry_matches as (

    select
        candidates.pair_id,
        candidates.week,
        candidates.learning_id,
        count(distinct open_deals.opportunity_id) as industry_open_deals,
        min(open_deals.industry) as matched_industry
    from candidates
    inner join open_deals
        on
            candidates.rep_id = open_deals.rep_id
            and candidates.week = open_deals.week
            and (
                lower(candidates.industry) = lower(open_deals.industry)
                or ',' || candidates.tags || ',' like '%,' || lower(open_deals.industry) || ',%'
            )
    group by
        candidates.pair_id,
        candidates.week,
        candidates.learning_id

),

recent_losses as (

    select
        weeks.week,
        deals.rep_id,
        deals.loss_reason
    from weeks
    inner join deals
        on
            deals.movement = 'lost'
            and weeks.week >= deals.week
            and {{ iso_week_label(add_days('weeks.week_start', -7 * (feedback_weeks - 1))) }}
            <= deals.week
    where deals.loss_reason is not null

),

-- The rep's themes in a week: recent loss reasons, and the pair's own field feedback.
pair_themes as (

    select distinct
        pairs.pair_id,
        recent_losses.week,
        keywords.theme_key,
        'losses' as theme_source,
        cast(null as varchar) as source_learning_id
    from recent_losses
    inner join pairs
        on recent_losses.rep_id = pairs.rep_id
    inner join keywords
        on lower(recent_losses.loss_reason) like '%' || keywords.keyword || '%'

    union all

    select distinct
        candidates.pair_id,
        candidates.week,
        learning_themes.theme_key,
        'feedback' as theme_source,
        candidates.learning_id as source_learning_id
    from candidates
    inner join learning_themes
        on candidates.learning_id = learning_themes.learning_id
    where candidates.is_own_pair and candidates.kind = 'feedback'

),

theme_matches as (

    select
        candidates.pair_id,
        candidates.week,
        candidates.learning_id,
        string_agg(distinct learning_themes.theme_key, ', ' order by learning_themes.theme_key)
            as matched_themes,
        bool_or(pair_themes.theme_source = 'losses') as is_from_losses,
        bool_or(pair_themes.theme_source = 'feedback') as is_from_feedback
    from candidates
    inner join learning_themes
        on candidates.learning_id = learning_themes.learning_id
    inner join pair_themes
        on
            candidates.pair_id = pair_themes.pair_id
            and candidates.week = pair_themes.week
            and learning_themes.theme_key = pair_themes.theme_key
    -- A feedback entry does not make itself relevant.
    where
        pair_themes.source_learning_id is null
        or pair_themes.source_learning_id <> candidates.learning_id
    group by
        candidates.pair_id,
        candidates.week,
        candidates.learning_id

),

matched as (

    select
        candidates.*,
        opportunity_matches.learning_id is not null as is_about_open_deal,
        coalesce(stage_matches.stage_open_deals, 0) as stage_open_deals,
        coalesce(industry_matches.industry_open_deals, 0) as industry_open_deals,
        industry_matches.matched_industry,
        theme_matches.matched_themes,
        coalesce(theme_matches.is_from_losses, false) as is_theme_from_losses,
        coalesce(theme_matches.is_from_feedback, false) as is_theme_from_feedback
    from candidates
    left join opportunity_matches
        on
            candidates.pair_id = opportunity_matches.pair_id
            and candidates.week = opportunity_matches.week
            and candidates.learning_id = opportunity_matches.learning_id
    left join stage_matches
        on
            candidates.pair_id = stage_matches.pair_id
            and candidates.week = stage_matches.week
            and candidates.learning_id = stage_matches.learning_id
    left join industry_matches
        on
            candidates.pair_id = industry_matches.pair_id
            and candidates.week = industry_matches.week
            and candidates.learning_id = industry_matches.learning_id
    left join theme_matches
        on
            candidates.pair_id = theme_matches.pair_id
            and candidates.week = theme_matches.week
            and candidates.learning_id = theme_matches.learning_id

),

relevant as (

    select
        matched.*,
        'same stage as ' || cast(matched.stage_open_deals as varchar)
        || ' open deal(s) (' || matched.stage_name || ')' as stage_text,
        'same industry as ' || cast(matched.industry_open_deals as varchar)
        || ' open deal(s) (' || matched.matched_industry || ')' as industry_text,
        'theme ' || matched.matched_themes || ' matches '
        || case
            when matched.is_theme_from_losses and matched.is_theme_from_feedback
                then 'recent loss reasons and this pair''s field feedback'
            when matched.is_theme_from_losses then 'recent loss reasons'
            else 'this pair''s field feedback'
        end as theme_text
    from matched
    where
        matched.is_own_pair
        or matched.is_about_open_deal
        or matched.stage_open_deals > 0
        or matched.industry_open_deals > 0
        or matched.matched_themes is not null

),

explained as (

    select
        pair_id,
        manager_id,
        rep_id,
        week,
        week_start,
        week_end,
        learning_id,
        learning_week,
        kind,
        theme,
        body,
        is_shareable,
        is_own_pair,
        source_manager_id,
        source_rep_id,
        source_manager_name,
        source_rep_name,
        source_manager_slug,
        source_rep_slug,
        tags,
        stage_name,
        industry,
        opportunity_id,
        concat_ws(
            ',',
            case when is_own_pair then 'own_pair' end,
            case when is_about_open_deal then 'opportunity' end,
            case when stage_open_deals > 0 then 'stage' end,
            case when industry_open_deals > 0 then 'industry' end,
            case when matched_themes is not null then 'theme' end
        ) as match_reasons,
        concat_ws(
            '; ',
            case when is_own_pair then 'recorded in this pair''s own 1:1 of ' || learning_week end,
            case when is_about_open_deal then 'about an open deal of this rep' end,
            case when stage_open_deals > 0 then stage_text end,
            case when industry_open_deals > 0 then industry_text end,
            case when matched_themes is not null then theme_text end
        ) as why,
        (case when is_own_pair then 1 else 0 end)
        + (case when is_about_open_deal then 1 else 0 end)
        + (case when stage_open_deals > 0 then 1 else 0 end)
        + (case when industry_open_deals > 0 then 1 else 0 end)
        + (case when matched_themes is not null then 1 else 0 end) as match_count
    from relevant

),

ranked as (

    select
        explained.*,
        row_number() over (
            partition by explained.pair_id, explained.week
            order by
                explained.match_count desc,
                explained.learning_week desc,
                explained.learning_id asc
        ) as relevance_rank
    from explained

),

final as (

    select * from ranked

)

select * from final
