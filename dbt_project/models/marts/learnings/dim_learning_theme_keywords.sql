with

themes as (

    select
        theme_key,
        theme_order,
        theme_label,
        escalate_to
    from {{ ref('feedback_themes') }}

),

keywords as (

    select
        theme_key,
        keyword
    from {{ ref('feedback_theme_keywords') }}

),

final as (

    select
        cast(themes.theme_key as {{ text_type() }}) as theme_key,
        cast(themes.theme_order as integer) as theme_order,
        cast(themes.theme_label as {{ text_type() }}) as theme_label,
        cast(themes.escalate_to as {{ text_type() }}) as escalate_to,
        cast(keywords.keyword as {{ text_type() }}) as keyword
    from keywords
    inner join themes
        on keywords.theme_key = themes.theme_key

)

select * from final
