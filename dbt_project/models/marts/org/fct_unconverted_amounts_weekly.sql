{#- Amounts left out of a week's numbers because their currency has no conversion rate
    (docs/metrics.md, Currency): never summed unconverted, listed here for the packets' data-quality
    appendix and for BI. The rules that pick the records are those of the facts they are
    missing from (fct_rep_activity_weekly, fct_rep_quota_weekly, fct_deal_movement_weekly). -#}

with

pairs as (

    select rep_id from {{ ref('dim_sales_pairs') }}

),

weeks as (

    select
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end
    from {{ ref('int_weeks_enumerated') }}
    where {{ in_build_window('week') }}

),

opportunities as (

    select
        opportunity_id,
        opportunity_name,
        owner_id,
        amount_original,
        currency_iso_code,
        close_date,
        is_won,
        is_amount_unconverted,
        created_at
    from {{ ref('int_opportunities_scoped') }}
    where is_amount_unconverted

),

opportunity_states as (

    select
        opportunity_id,
        owner_id,
        week,
        amount_end,
        amount_original_end,
        currency_iso_code_end,
        close_date_end,
        forecast_category_end,
        is_open_end
    from {{ ref('int_opportunity_states_sampled_weekly') }}
    where
        {{ in_build_window('week') }}
        and amount_end is null
        and amount_original_end is not null

),

deal_movement as (

    select
        opportunity_id,
        week,
        rep_id,
        opportunity_name,
        amount,
        amount_original,
        currency_original,
        close_date
    from {{ ref('fct_deal_movement_weekly') }}
    where
        {{ in_build_window('week') }}
        and amount is null
        and amount_original is not null

),

forecasting_quotas as (

    select
        forecasting_quota_id,
        quota_owner_id,
        start_date,
        quota_amount,
        currency_iso_code
    from {{ ref('stg_salesforce__forecasting_quotas') }}

),

org_settings as (

    select
        corporate_currency,
        is_multi_currency
    from {{ ref('int_org_settings_resolved') }}

),

currency_rates as (

    select
        iso_code,
        conversion_rate
    from {{ ref('int_currency_rates_combined') }}
    where for_quotas

),

rep_weeks as (

    select
        pairs.rep_id,
        weeks.week,
        weeks.week_start,
        weeks.week_end,
        weeks.quarter_start,
        weeks.quarter_end
    from pairs
    cross join weeks

),

pipeline_created as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        'pipeline_created' as amount_kind,
        'Opportunity' as source_object,
        opportunities.opportunity_id as record_id,
        opportunities.opportunity_name as record_name,
        opportunities.currency_iso_code,
        opportunities.amount_original,
        opportunities.close_date as rate_date
    from rep_weeks
    inner join opportunities
        on
            rep_weeks.rep_id = opportunities.owner_id
            and rep_weeks.week_start = {{ iso_week_start('opportunities.created_at') }}

),

closed_won_amount as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        'closed_won_amount' as amount_kind,
        'Opportunity' as source_object,
        opportunities.opportunity_id as record_id,
        opportunities.opportunity_name as record_name,
        opportunities.currency_iso_code,
        opportunities.amount_original,
        opportunities.close_date as rate_date
    from rep_weeks
    inner join opportunities
        on
            rep_weeks.rep_id = opportunities.owner_id
            and opportunities.is_won
            and rep_weeks.week_start = {{ iso_week_start('opportunities.close_date') }}

),

-- As won_to_date of fct_rep_quota_weekly: won, CloseDate from the quarter start to week_end.
won_to_date as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        'won_to_date' as amount_kind,
        'Opportunity' as source_object,
        opportunities.opportunity_id as record_id,
        opportunities.opportunity_name as record_name,
        opportunities.currency_iso_code,
        opportunities.amount_original,
        opportunities.close_date as rate_date
    from rep_weeks
    inner join opportunities
        on
            rep_weeks.rep_id = opportunities.owner_id
            and opportunities.is_won
            and opportunities.close_date >= rep_weeks.quarter_start
            and opportunities.close_date < least(rep_weeks.week_end, rep_weeks.quarter_end)

),

-- As open_pipeline of fct_rep_quota_weekly: open at week_end, not Omitted, closing from
-- week_end to the quarter end.
open_pipeline as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        'open_pipeline' as amount_kind,
        'Opportunity' as source_object,
        opportunity_states.opportunity_id as record_id,
        cast(null as {{ text_type() }}) as record_name,
        opportunity_states.currency_iso_code_end as currency_iso_code,
        opportunity_states.amount_original_end as amount_original,
        opportunity_states.close_date_end as rate_date
    from rep_weeks
    inner join opportunity_states
        on
            rep_weeks.rep_id = opportunity_states.owner_id
            and rep_weeks.week = opportunity_states.week
            and opportunity_states.is_open_end
            and coalesce(opportunity_states.forecast_category_end, '') <> 'Omitted'
            and opportunity_states.close_date_end >= rep_weeks.week_end
            and opportunity_states.close_date_end < rep_weeks.quarter_end

),

deal_amount as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        'deal_amount' as amount_kind,
        'Opportunity' as source_object,
        deal_movement.opportunity_id as record_id,
        deal_movement.opportunity_name as record_name,
        deal_movement.currency_original as currency_iso_code,
        deal_movement.amount_original,
        deal_movement.close_date as rate_date
    from rep_weeks
    inner join deal_movement
        on
            rep_weeks.rep_id = deal_movement.rep_id
            and rep_weeks.week = deal_movement.week

),

quotas_in_currency as (

    select
        forecasting_quotas.forecasting_quota_id,
        forecasting_quotas.quota_owner_id,
        forecasting_quotas.start_date,
        forecasting_quotas.quota_amount,
        {{ amount_currency('forecasting_quotas.currency_iso_code', 'org_settings') }}
            as currency_iso_code
    from forecasting_quotas
    cross join org_settings

),

-- Quota rows convert at the static rate of their own currency (no rate date).
quotas_without_rate as (

    select quotas_in_currency.*
    from quotas_in_currency
    left join currency_rates
        on quotas_in_currency.currency_iso_code = currency_rates.iso_code
    where currency_rates.conversion_rate is null

),

quota_amount as (

    select
        rep_weeks.rep_id,
        rep_weeks.week,
        'quota_amount' as amount_kind,
        'ForecastingQuota' as source_object,
        quotas_without_rate.forecasting_quota_id as record_id,
        cast(null as {{ text_type() }}) as record_name,
        quotas_without_rate.currency_iso_code,
        quotas_without_rate.quota_amount as amount_original,
        cast(null as date) as rate_date
    from rep_weeks
    inner join quotas_without_rate
        on
            rep_weeks.rep_id = quotas_without_rate.quota_owner_id
            and quotas_without_rate.start_date >= rep_weeks.quarter_start
            and quotas_without_rate.start_date < rep_weeks.quarter_end

),

unconverted as (

    select * from pipeline_created
    union all
    select * from closed_won_amount
    union all
    select * from won_to_date
    union all
    select * from open_pipeline
    union all
    select * from deal_amount
    union all
    select * from quota_amount

),

final as (

    select
        cast(
            unconverted.rep_id || '-' || unconverted.week || '-' || unconverted.amount_kind
            || '-' || unconverted.record_id
            as {{ text_type() }}
        ) as unconverted_amount_key,
        unconverted.rep_id,
        unconverted.week,
        weeks.week_start,
        weeks.week_end,
        cast(unconverted.amount_kind as {{ text_type() }}) as amount_kind,
        cast(unconverted.source_object as {{ text_type() }}) as source_object,
        cast(unconverted.record_id as {{ text_type() }}) as record_id,
        cast(unconverted.record_name as {{ text_type() }}) as record_name,
        cast(unconverted.currency_iso_code as {{ text_type() }}) as currency_iso_code,
        cast(unconverted.amount_original as {{ double_type() }}) as amount_original,
        unconverted.rate_date
    from unconverted
    inner join weeks
        on unconverted.week = weeks.week

)

select * from final
