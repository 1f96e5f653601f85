{#- The org-wide facts every currency and calendar rule starts from, in one row. Config
    overrides come in as vars (salesprep.config.Settings); var fiscal_year_start_month is null
    (or empty) unless config sets a month. -#}
{%- set configured = var('fiscal_year_start_month', none) -%}
{%- set configured_month = none -%}
{%- if configured is not none and configured | string | trim | lower not in ('', 'none', 'null') -%}
{%- set configured_month = configured | int -%}
{%- endif -%}
{%- if configured_month is not none and (configured_month < 1 or configured_month > 12) -%}
{{ exceptions.raise_compiler_error(
    "var fiscal_year_start_month=" ~ configured ~ " must be 1..12 or null"
) }}
{%- endif -%}
{%- set currency_code = var('currency_code', 'USD') | string | trim | upper -%}

with

organization as (

    select
        organization_id,
        organization_name,
        fiscal_year_start_month,
        uses_start_date_as_fiscal_year_name,
        default_locale
    from {{ ref('stg_salesforce__organization') }}

),

currency_types as (

    select
        currency_type_id,
        iso_code,
        is_corporate
    from {{ ref('stg_salesforce__currency_types') }}

),

dated_rates as (

    select iso_code from {{ ref('stg_salesforce__dated_conversion_rates') }}

),

periods as (

    select period_type from {{ ref('stg_salesforce__periods') }}

),

-- An org has exactly one Organization row; aggregates keep this model at one row also when
-- the object could not be read (then config and the defaults decide).
org_row as (

    select
        min(organization_id) as organization_id,
        min(organization_name) as organization_name,
        min(
            case when fiscal_year_start_month between 1 and 12 then fiscal_year_start_month end
        ) as org_fiscal_year_start_month,
        coalesce({{ dbt.bool_or('uses_start_date_as_fiscal_year_name') }}, false)
            as uses_start_date_as_fiscal_year_name,
        min(default_locale) as default_locale
    from organization

),

-- The corporate currency is the CurrencyType flagged IsCorporate; an org without CurrencyType
-- rows is single-currency and config names its currency.
-- Salesforce has one corporate currency; were two flagged, the lowest Id wins. The aggregate
-- keeps one row when there is none.
corporate as (

    select min(iso_code) as corporate_iso_code
    from (
        select
            iso_code,
            row_number() over (order by currency_type_id) as corporate_rank
        from currency_types
        where is_corporate
    ) as ranked
    where corporate_rank = 1

),

currency_counts as (

    select count(*) as currency_types from currency_types

),

dated_counts as (

    select count(*) as dated_rates from dated_rates

),

period_counts as (

    select count(*) as quarter_periods from periods
    where period_type = 'Quarter'

),

final as (

    select
        org_row.organization_id,
        org_row.organization_name,
        cast(
            coalesce(corporate.corporate_iso_code, '{{ currency_code | replace("'", "''") }}')
            as {{ text_type() }}
        ) as corporate_currency,
        currency_counts.currency_types > 0 as is_multi_currency,
        dated_counts.dated_rates > 0 as has_dated_rates,
        {% if configured_month is not none -%}
        cast({{ configured_month }} as integer) as fiscal_year_start_month,
        cast('config' as {{ text_type() }}) as fiscal_year_start_month_source,
        {%- else -%}
        cast(coalesce(org_row.org_fiscal_year_start_month, 1) as integer)
            as fiscal_year_start_month,
        cast(
            case
                when org_row.org_fiscal_year_start_month is null then 'default'
                else 'organization'
            end as {{ text_type() }}
        ) as fiscal_year_start_month_source,
        {%- endif %}
        org_row.uses_start_date_as_fiscal_year_name,
        period_counts.quarter_periods > 0 as has_custom_fiscal_quarters,
        org_row.default_locale
    from org_row
    cross join corporate
    cross join currency_counts
    cross join dated_counts
    cross join period_counts

)

select * from final
