with

org_settings as (

    select
        corporate_currency,
        is_multi_currency
    from {{ ref('int_org_settings_resolved') }}

),

currency_types as (

    select
        currency_type_id,
        iso_code,
        conversion_rate
    from {{ ref('stg_salesforce__currency_types') }}

),

dated_rates as (

    select
        dated_conversion_rate_id,
        iso_code,
        conversion_rate,
        start_date,
        next_start_date
    from {{ ref('stg_salesforce__dated_conversion_rates') }}

),

-- Advanced Currency Management: a currency with any dated rows converts opportunity amounts
-- with those rows only.
dated_currencies as (

    select distinct iso_code from dated_rates

),

-- Salesforce never lets dated rows of a currency overlap; were they to, the later StartDate
-- wins from its start, so a date never matches two rows.
dated_ordered as (

    select
        dated_rates.iso_code,
        dated_rates.conversion_rate,
        dated_rates.start_date,
        dated_rates.next_start_date,
        lead(dated_rates.start_date) over (
            partition by dated_rates.iso_code
            order by dated_rates.start_date, dated_rates.dated_conversion_rate_id
        ) as following_start_date
    from dated_rates
    cross join org_settings
    where
        dated_rates.start_date is not null
        and dated_rates.iso_code <> org_settings.corporate_currency

),

dated_rows as (

    select
        iso_code,
        'dated' as rate_source,
        start_date as valid_from,
        case
            when
                following_start_date is not null
                and (next_start_date is null or following_start_date < next_start_date)
                then following_start_date
            else next_start_date
        end as valid_to,
        conversion_rate,
        true as for_opportunities,
        false as for_quotas
    from dated_ordered

),

static_ranked as (

    select
        currency_types.iso_code,
        currency_types.conversion_rate,
        row_number() over (
            partition by currency_types.iso_code
            order by currency_types.currency_type_id
        ) as iso_rank
    from currency_types
    cross join org_settings
    where currency_types.iso_code <> org_settings.corporate_currency

),

-- CurrencyType.ConversionRate: quotas always, opportunities when the currency has no dated rows.
-- Inactive currency types count: old deals keep their currency.
static_rows as (

    select
        static_ranked.iso_code,
        'static' as rate_source,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        static_ranked.conversion_rate,
        dated_currencies.iso_code is null as for_opportunities,
        true as for_quotas
    from static_ranked
    left join dated_currencies
        on static_ranked.iso_code = dated_currencies.iso_code
    where static_ranked.iso_rank = 1

),

corporate_row as (

    select
        corporate_currency as iso_code,
        'corporate' as rate_source,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        cast(1 as {{ double_type() }}) as conversion_rate,
        true as for_opportunities,
        true as for_quotas
    from org_settings

),

-- A single-currency org (no CurrencyType rows) converts nothing: every amount is corporate.
rates as (

    select * from corporate_row

    union all

    select static_rows.*
    from static_rows
    cross join org_settings
    where org_settings.is_multi_currency

    union all

    select dated_rows.*
    from dated_rows
    cross join org_settings
    where
        org_settings.is_multi_currency
        and (dated_rows.valid_to is null or dated_rows.valid_to > dated_rows.valid_from)

),

final as (

    select
        cast(
            iso_code || '-' || rate_source || '-'
            || coalesce(cast(valid_from as {{ text_type() }}), '')
            as {{ text_type() }}
        ) as currency_rate_key,
        cast(iso_code as {{ text_type() }}) as iso_code,
        cast(rate_source as {{ text_type() }}) as rate_source,
        valid_from,
        valid_to,
        -- A rate that is null, 0 or negative is no rate: the amount stays unconverted (null).
        cast(case when conversion_rate > 0 then conversion_rate end as {{ double_type() }})
            as conversion_rate,
        for_opportunities,
        for_quotas
    from rates

)

select * from final
