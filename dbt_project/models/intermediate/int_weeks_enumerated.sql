{%- set last_week_start = week_start_date(run_week()) -%}

with

opportunities as (

    select created_at from {{ ref('int_opportunities_scoped') }}

),

opportunity_history as (

    select created_at from {{ ref('int_opportunity_histories_converted') }}

),

tasks as (

    select activity_date from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select start_at from {{ ref('stg_salesforce__events') }}

),

org_settings as (

    select
        fiscal_year_start_month,
        uses_start_date_as_fiscal_year_name
    from {{ ref('int_org_settings_resolved') }}

),

fiscal_quarters as (

    select
        period_id,
        quarter_start,
        quarter_end,
        fiscal_year_name,
        quarter_number
    from {{ ref('int_fiscal_quarters_labeled') }}

),

-- Dated activity can lie in the future (open tasks); only data up to var week counts.
data_dates as (

    select cast(created_at as date) as data_date from opportunities
    union all
    select cast(created_at as date) as data_date from opportunity_history
    union all
    select activity_date as data_date from tasks
    union all
    select cast(start_at as date) as data_date from events

),

bounds as (

    select
        coalesce(
            {{ iso_week_start('min(data_date)') }},
            cast('{{ last_week_start }}' as date)
        ) as first_week_start,
        cast('{{ last_week_start }}' as date) as last_week_start
    from data_dates
    where data_date < {{ add_days("cast('" ~ last_week_start ~ "' as date)", 7) }}

),

spine as (

    select {{ date_series_value('series', 'bounds.first_week_start') }} as week_start
    from bounds
    {{ date_series_join('bounds.first_week_start', 'bounds.last_week_start', 7, 'series') }}

),

weeks as (

    select
        cast({{ iso_week_label('week_start') }} as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        {{ add_days('week_start', 7) }} as week_end,
        -- The quarter a week belongs to is the one containing its last day (Sunday).
        {{ add_days('week_start', 6) }} as last_day
    from spine

),

with_quarters as (

    {{ select_fiscal_quarter('weeks', 'last_day', 'org_settings', 'fiscal_quarters') }}

),

final as (

    select
        week,
        week_start,
        week_end,
        quarter_start,
        quarter_end,
        fiscal_year_name,
        quarter_number,
        {{ fiscal_quarter_label('fiscal_year_name', 'quarter_number') }} as quarter_label,
        cast(quarter_source as {{ text_type() }}) as quarter_source,
        cast(week_start as timestamp) as week_start_at,
        cast(week_end as timestamp) as week_end_at
    from with_quarters

)

select * from final
