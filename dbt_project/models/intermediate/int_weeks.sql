{%- set last_week_start = week_start_date(var('week')) -%}

with

opportunities as (

    select created_at from {{ ref('stg_salesforce__opportunities') }}

),

opportunity_history as (

    select created_at from {{ ref('stg_salesforce__opportunity_history') }}

),

tasks as (

    select activity_date from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select start_at from {{ ref('stg_salesforce__events') }}

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

    select cast(series.week_start_ts as date) as week_start
    from bounds
    cross join generate_series(
        cast(bounds.first_week_start as timestamp),
        cast(bounds.last_week_start as timestamp),
        interval '7 days'
    ) as series (week_start_ts)

),

weeks as (

    select
        cast({{ iso_week_label('week_start') }} as varchar) as week,  -- noqa: RF04
        week_start,
        {{ add_days('week_start', 7) }} as week_end,
        -- The quarter a week belongs to is the one containing its last day (Sunday).
        {{ fiscal_quarter_start(add_days('week_start', 6)) }} as quarter_start
    from spine

),

final as (

    select
        week,
        week_start,
        week_end,
        quarter_start,
        {{ add_months('quarter_start', 3) }} as quarter_end,
        cast(week_start as timestamp) as week_start_at,
        cast(week_end as timestamp) as week_end_at
    from weeks

)

select * from final
