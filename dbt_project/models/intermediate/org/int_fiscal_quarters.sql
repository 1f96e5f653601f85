with

periods as (

    select
        period_id,
        fiscal_year_settings_id,
        period_type,
        start_date,
        end_date,
        period_number
    from {{ ref('stg_salesforce__periods') }}

),

fiscal_years as (

    select
        fiscal_year_settings_id,
        fiscal_year_name
    from {{ ref('stg_salesforce__fiscal_year_settings') }}

),

org_settings as (

    select
        fiscal_year_start_month,
        uses_start_date_as_fiscal_year_name
    from {{ ref('int_org_settings') }}

),

quarter_periods as (

    select *
    from periods
    where
        period_type = 'Quarter'
        and start_date is not null
        and end_date is not null
        and start_date <= end_date

),

-- Salesforce never overlaps the quarters of custom fiscal years; were they to, the row that
-- starts first (then the lower Id) keeps the days, so a day is in at most one quarter.
overlapped as (

    select distinct later.period_id
    from quarter_periods as later
    inner join quarter_periods as earlier
        on
            earlier.period_id <> later.period_id
            and earlier.start_date <= later.start_date
            and earlier.end_date >= later.start_date
            and (
                earlier.start_date < later.start_date
                or earlier.period_id < later.period_id
            )

),

non_overlapping as (

    select quarter_periods.*
    from quarter_periods
    left join overlapped
        on quarter_periods.period_id = overlapped.period_id
    where overlapped.period_id is null

),

with_settings as (

    select
        non_overlapping.period_id,
        non_overlapping.start_date,
        non_overlapping.end_date,
        non_overlapping.period_number,
        fiscal_years.fiscal_year_name as settings_year_name,
        org_settings.fiscal_year_start_month as start_month,
        org_settings.uses_start_date_as_fiscal_year_name as uses_start_date
    from non_overlapping
    cross join org_settings
    left join fiscal_years
        on non_overlapping.fiscal_year_settings_id = fiscal_years.fiscal_year_settings_id

),

-- A year without a FiscalYearSettings name is named as a standard year would name its last day.
named as (

    select
        period_id,
        start_date,
        {{ add_days('end_date', 1) }} as end_date_exclusive,
        period_number,
        coalesce(
            settings_year_name,
            {{ standard_fiscal_year_name('end_date', 'start_month', 'uses_start_date') }}
        ) as fiscal_year_name,
        {{ standard_quarter_number('start_date', 'start_month') }} as standard_quarter_number
    from with_settings

),

final as (

    select
        cast(period_id as varchar) as period_id,
        start_date as quarter_start,
        end_date_exclusive as quarter_end,
        cast(fiscal_year_name as varchar) as fiscal_year_name,
        cast(coalesce(period_number, standard_quarter_number) as integer) as quarter_number,
        {{ fiscal_quarter_label(
            'fiscal_year_name', 'coalesce(period_number, standard_quarter_number)'
        ) }} as quarter_label
    from named

)

select * from final
