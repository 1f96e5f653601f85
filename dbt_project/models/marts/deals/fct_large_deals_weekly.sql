{#- Open deals at or above this percentile of the rep's open amounts count as large. -#}
{%- set large_deal_percentile = 0.75 -%}

with

open_deals as (

    select
        opportunity_id,
        week,
        rep_id,
        amount
    from {{ ref('fct_deal_movement_weekly') }}
    where
        is_open_end
        and amount is not null
        and {{ in_build_window('week') }}

),

-- The rep's own open book sets the bar: a deal is large for this rep, not for the team.
thresholds as (

    select
        rep_id,
        week,
        {{ percentile_cont('amount', large_deal_percentile) }} as large_deal_threshold,
        count(*) as open_deals_with_amount
    from open_deals
    group by
        rep_id,
        week

),

large_deals as (

    select
        open_deals.opportunity_id,
        open_deals.week,
        open_deals.rep_id,
        open_deals.amount,
        thresholds.large_deal_threshold,
        thresholds.open_deals_with_amount
    from open_deals
    inner join thresholds
        on
            open_deals.rep_id = thresholds.rep_id
            and open_deals.week = thresholds.week
    where open_deals.amount >= thresholds.large_deal_threshold

),

final as (

    select
        cast(opportunity_id as {{ text_type() }}) as opportunity_id,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        cast(rep_id as {{ text_type() }}) as rep_id,
        cast(amount as {{ double_type() }}) as amount,
        cast(large_deal_threshold as {{ double_type() }}) as large_deal_threshold,
        cast(open_deals_with_amount as integer) as open_deals_with_amount
    from large_deals

)

select * from final
