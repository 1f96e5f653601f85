with

org_settings as (

    select
        organization_id,
        organization_name,
        corporate_currency,
        is_multi_currency,
        has_dated_rates,
        fiscal_year_start_month,
        fiscal_year_start_month_source,
        uses_start_date_as_fiscal_year_name,
        has_custom_fiscal_quarters,
        default_locale
    from {{ ref('int_org_settings_resolved') }}

),

final as (

    select
        organization_id,
        organization_name,
        corporate_currency,
        is_multi_currency,
        has_dated_rates,
        fiscal_year_start_month,
        fiscal_year_start_month_source,
        uses_start_date_as_fiscal_year_name,
        has_custom_fiscal_quarters,
        default_locale
    from org_settings

)

select * from final
