{#- The opportunities every opportunity-based number sees: record-type rules applied once, here,
    and Amount in the corporate currency. -#}
{%- set include_types = var('include_record_types', []) -%}
{%- set exclude_types = var('exclude_record_types', []) -%}

with

opportunities as (

    select
        opportunity_id,
        opportunity_name,
        account_id,
        owner_id,
        stage_name,
        amount,
        close_date,
        probability,
        forecast_category_name,
        opportunity_type,
        lead_source,
        next_step,
        description,
        is_closed,
        is_won,
        loss_reason,
        currency_iso_code,
        record_type_id,
        created_at,
        last_modified_at,
        system_modstamp_at
    from {{ ref('stg_salesforce__opportunities') }}

),

record_types as (

    select
        record_type_id,
        record_type_name,
        developer_name
    from {{ ref('stg_salesforce__record_types') }}

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

with_record_type as (

    select
        opportunities.*,
        record_types.record_type_name,
        record_types.developer_name as record_type_developer_name
    from opportunities
    left join record_types
        on opportunities.record_type_id = record_types.record_type_id

),

-- Config include/exclude lists of RecordType.DeveloperName (vars include_record_types,
-- exclude_record_types). With an include list, a deal without a record type is left out.
scoped as (

    select *
    from with_record_type
    where
        {% if include_types | length > 0 -%}
        coalesce(record_type_developer_name in {{ sql_string_list(include_types) }}, false)
        {%- else -%}
        true
        {%- endif %}
        and not coalesce(
            record_type_developer_name in {{ sql_string_list(exclude_types) }}, false
        )

),

with_currency as (

    select
        scoped.*,
        {{ amount_currency('scoped.currency_iso_code', 'org_settings') }} as amount_currency
    from scoped
    cross join org_settings

),

-- The current record's amount converts at the rate of its current CloseDate.
converted as (

    select
        with_currency.*,
        currency_rates.conversion_rate
    from with_currency
    left join currency_rates
        on {{ opportunity_rate_matches(
            'currency_rates', 'with_currency.amount_currency', 'with_currency.close_date'
        ) }}

),

final as (

    select
        opportunity_id,
        opportunity_name,
        account_id,
        owner_id,
        stage_name,
        cast(amount / conversion_rate as {{ double_type() }}) as amount,
        amount as amount_original,
        cast(amount_currency as {{ text_type() }}) as currency_iso_code,
        conversion_rate,
        amount is not null and conversion_rate is null as is_amount_unconverted,
        close_date,
        probability,
        forecast_category_name,
        opportunity_type,
        lead_source,
        next_step,
        description,
        is_closed,
        is_won,
        loss_reason,
        record_type_id,
        record_type_name,
        record_type_developer_name,
        created_at,
        last_modified_at,
        system_modstamp_at
    from converted

)

select * from final
