with

open_deals as (

    select
        opportunity_id,
        week,
        rep_id,
        opportunity_name,
        amount,
        stage_end,
        {{ strip_whitespace('next_step') }} as next_step
    from {{ ref('fct_deal_movement_weekly') }}
    where is_open_end

),

keywords as (

    select
        theme_key,
        keyword
    from {{ ref('feedback_theme_keywords') }}

),

-- A next step is the rep's plan and usually names no theme: it counts only where it does.
themed as (

    select distinct
        open_deals.opportunity_id,
        open_deals.week,
        open_deals.rep_id,
        open_deals.opportunity_name,
        open_deals.amount,
        open_deals.stage_end,
        open_deals.next_step,
        keywords.theme_key
    from open_deals
    inner join keywords
        on {{ names_keyword('open_deals.next_step', 'keywords.keyword') }}

),

final as (

    select * from themed

)

select * from final
