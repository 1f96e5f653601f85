with

lost_deals as (

    select
        opportunity_id,
        week,
        rep_id,
        opportunity_name,
        amount,
        {{ strip_whitespace('loss_reason') }} as loss_reason
    from {{ ref('fct_deal_movement_weekly') }}
    where movement = 'lost'

),

keywords as (

    select
        theme_key,
        keyword
    from {{ ref('feedback_theme_keywords') }}

),

named as (

    select distinct
        lost_deals.opportunity_id,
        lost_deals.week,
        keywords.theme_key
    from lost_deals
    inner join keywords
        on {{ names_keyword('lost_deals.loss_reason', 'keywords.keyword') }}

),

-- A loss reason that names no theme is still feedback (`other`); a deal lost without a reason
-- keeps one row with no theme, so the packets can say how many reasons are missing.
themed as (

    select
        lost_deals.opportunity_id,
        lost_deals.week,
        lost_deals.rep_id,
        lost_deals.opportunity_name,
        lost_deals.amount,
        nullif(lost_deals.loss_reason, '') as loss_reason,
        case
            when named.theme_key is not null then named.theme_key
            when lost_deals.loss_reason <> '' then 'other'
        end as theme_key
    from lost_deals
    left join named
        on
            lost_deals.opportunity_id = named.opportunity_id
            and lost_deals.week = named.week

),

final as (

    select * from themed

)

select * from final
