with

opportunity_history as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        amount,
        close_date,
        probability,
        forecast_category,
        currency_iso_code,
        created_at
    from {{ ref('stg_salesforce__opportunity_history') }}

),

opportunities as (

    select
        opportunity_id,
        currency_iso_code
    from {{ ref('int_opportunities_scoped') }}

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
        valid_from,
        valid_to,
        conversion_rate,
        for_opportunities
    from {{ ref('int_currency_rates_combined') }}
    where for_opportunities

),

-- History of deleted, unknown or out-of-scope (record type) opportunities is left out. A row's
-- amount is in its own currency, else in the opportunity's current one.
scoped as (

    select
        opportunity_history.*,
        {{ amount_currency(
            'coalesce(opportunity_history.currency_iso_code, opportunities.currency_iso_code)',
            'org_settings'
        ) }} as amount_currency
    from opportunity_history
    inner join opportunities
        on opportunity_history.opportunity_id = opportunities.opportunity_id
    cross join org_settings

),

-- The rate of the row's own CloseDate: the amount and the close date of one moment.
converted as (

    select
        scoped.*,
        currency_rates.conversion_rate
    from scoped
    left join currency_rates
        on {{ opportunity_rate_matches(
            'currency_rates', 'scoped.amount_currency', 'scoped.close_date'
        ) }}

),

final as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        cast(amount / conversion_rate as {{ double_type() }}) as amount,
        amount as amount_original,
        cast(amount_currency as {{ text_type() }}) as currency_iso_code,
        conversion_rate,
        amount is not null and conversion_rate is null as is_amount_unconverted,
        close_date,
        probability,
        forecast_category,
        created_at
    from converted

)

select * from final
