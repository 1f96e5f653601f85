with

entries as (

    select
        learning_id,
        week,
        manager_slug,
        rep_slug,
        manager_id,
        rep_id,
        kind,
        theme,
        body,
        is_shareable,
        tags,
        stage_name,
        industry,
        opportunity_id,
        source_path
    from {{ ref('stg_learnings__entries') }}

),

pairs as (

    select
        pair_id,
        manager_id,
        manager_name,
        rep_id,
        rep_name
    from {{ ref('dim_sales_pairs') }}

),

-- The feedback theme a learning is grouped under: the first one its theme or tags name, else
-- its theme as written.
learning_themes as (

    select
        learning_id,
        theme_key,
        theme_label,
        row_number() over (
            partition by learning_id
            order by theme_order asc nulls last, theme_key asc
        ) as theme_position
    from {{ ref('int_learnings_themed') }}

),

weeks as (

    select
        week,
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}

),

-- The pair as the warehouse knows it now; an entry whose manifest ids no longer name a pair
-- (the rep moved team, or left) keeps its ids with a null pair_id.
joined as (

    select
        entries.learning_id,
        entries.week,
        weeks.week_start,
        weeks.week_end,
        pairs.pair_id,
        entries.manager_id,
        pairs.manager_name,
        entries.rep_id,
        pairs.rep_name,
        entries.manager_slug,
        entries.rep_slug,
        entries.kind,
        entries.theme,
        learning_themes.theme_key,
        learning_themes.theme_label,
        entries.body,
        entries.is_shareable,
        entries.tags,
        entries.stage_name,
        entries.industry,
        entries.opportunity_id,
        entries.source_path
    from entries
    left join pairs
        on
            entries.manager_id = pairs.manager_id
            and entries.rep_id = pairs.rep_id
    left join weeks
        on entries.week = weeks.week
    left join learning_themes
        on
            entries.learning_id = learning_themes.learning_id
            and learning_themes.theme_position = 1

),

final as (

    select * from joined

)

select * from final
