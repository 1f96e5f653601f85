with

offered as (

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
        is_shareable,
        tags,
        stage_name,
        industry,
        opportunity_id,
        is_own_pair
    from {{ ref('int_learnings_offered') }}

),

open_deals as (

    select
        opportunity_id,
        week,
        rep_id,
        stage_end,
        industry
    from {{ ref('fct_deal_movement_weekly') }}
    where is_open_end

),

learning_themes as (

    select
        learning_id,
        theme_key
    from {{ ref('int_learnings_themed') }}

),

pair_themes as (

    select
        pair_id,
        week,
        theme_key,
        theme_source,
        source_learning_id
    from {{ ref('int_pair_themes_collected') }}

),

opportunity_matches as (

    select distinct
        offered.pair_id,
        offered.week,
        offered.learning_id
    from offered
    inner join open_deals
        on
            offered.rep_id = open_deals.rep_id
            and offered.week = open_deals.week
            and offered.opportunity_id = open_deals.opportunity_id

),

stage_matches as (

    select
        offered.pair_id,
        offered.week,
        offered.learning_id,
        count(distinct open_deals.opportunity_id) as stage_open_deals
    from offered
    inner join open_deals
        on
            offered.rep_id = open_deals.rep_id
            and offered.week = open_deals.week
            and lower(offered.stage_name) = lower(open_deals.stage_end)
    group by
        offered.pair_id,
        offered.week,
        offered.learning_id

),

-- The industry named in the front matter, or a tag equal to the industry's name.
industry_matches as (

    select
        offered.pair_id,
        offered.week,
        offered.learning_id,
        count(distinct open_deals.opportunity_id) as industry_open_deals,
        min(open_deals.industry) as matched_industry
    from offered
    inner join open_deals
        on
            offered.rep_id = open_deals.rep_id
            and offered.week = open_deals.week
            and (
                lower(offered.industry) = lower(open_deals.industry)
                or ',' || offered.tags || ',' like '%,' || lower(open_deals.industry) || ',%'
            )
    group by
        offered.pair_id,
        offered.week,
        offered.learning_id

),

theme_matches as (

    select
        offered.pair_id,
        offered.week,
        offered.learning_id,
        {{ dbt.listagg(
            'distinct learning_themes.theme_key',
            "', '",
            'order by learning_themes.theme_key'
        ) }} as matched_themes,
        {{ dbt.bool_or("pair_themes.theme_source = 'losses'") }} as is_from_losses,
        {{ dbt.bool_or("pair_themes.theme_source = 'feedback'") }} as is_from_feedback
    from offered
    inner join learning_themes
        on offered.learning_id = learning_themes.learning_id
    inner join pair_themes
        on
            offered.pair_id = pair_themes.pair_id
            and offered.week = pair_themes.week
            and learning_themes.theme_key = pair_themes.theme_key
    -- A feedback entry does not make itself relevant.
    where
        pair_themes.source_learning_id is null
        or pair_themes.source_learning_id <> offered.learning_id
    group by
        offered.pair_id,
        offered.week,
        offered.learning_id

),

matched as (

    select
        offered.*,
        opportunity_matches.learning_id is not null as is_about_open_deal,
        coalesce(stage_matches.stage_open_deals, 0) as stage_open_deals,
        coalesce(industry_matches.industry_open_deals, 0) as industry_open_deals,
        industry_matches.matched_industry,
        theme_matches.matched_themes,
        coalesce(theme_matches.is_from_losses, false) as is_theme_from_losses,
        coalesce(theme_matches.is_from_feedback, false) as is_theme_from_feedback
    from offered
    left join opportunity_matches
        on
            offered.pair_id = opportunity_matches.pair_id
            and offered.week = opportunity_matches.week
            and offered.learning_id = opportunity_matches.learning_id
    left join stage_matches
        on
            offered.pair_id = stage_matches.pair_id
            and offered.week = stage_matches.week
            and offered.learning_id = stage_matches.learning_id
    left join industry_matches
        on
            offered.pair_id = industry_matches.pair_id
            and offered.week = industry_matches.week
            and offered.learning_id = industry_matches.learning_id
    left join theme_matches
        on
            offered.pair_id = theme_matches.pair_id
            and offered.week = theme_matches.week
            and offered.learning_id = theme_matches.learning_id

),

final as (

    select * from matched

)

select * from final
