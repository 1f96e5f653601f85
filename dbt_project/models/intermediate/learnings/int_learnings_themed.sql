with

learnings as (

    select
        learning_id,
        theme,
        theme || ' ' || replace(tags, ',', ' ') as theme_and_tags
    from {{ ref('stg_learnings__entries') }}

),

themes as (

    select
        theme_key,
        theme_order,
        theme_label
    from {{ ref('feedback_themes') }}

),

keywords as (

    select
        theme_key,
        keyword
    from {{ ref('feedback_theme_keywords') }}

),

-- The feedback themes a learning's theme or tags name ...
keyword_themes as (

    select distinct
        learnings.learning_id,
        keywords.theme_key
    from learnings
    inner join keywords
        on {{ names_keyword('learnings.theme_and_tags', 'keywords.keyword') }}

),

-- ... else its theme as written, so two pairs using one custom theme still meet.
themed as (

    select
        keyword_themes.learning_id,
        keyword_themes.theme_key,
        themes.theme_order,
        themes.theme_label,
        true as is_feedback_theme
    from keyword_themes
    inner join themes
        on keyword_themes.theme_key = themes.theme_key

    union all

    select
        learnings.learning_id,
        learnings.theme as theme_key,
        cast(null as integer) as theme_order,
        {{ capitalized('learnings.theme') }} as theme_label,
        false as is_feedback_theme
    from learnings
    left join keyword_themes
        on learnings.learning_id = keyword_themes.learning_id
    where keyword_themes.learning_id is null

),

final as (

    select * from themed

)

select * from final
