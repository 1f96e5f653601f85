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
    from {{ ref('int_org_settings_resolved') }}

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

-- Period.Number, else (never empty in Salesforce) the quarter's position in its fiscal year.
numbered as (

    select
        *,
        row_number() over (
            partition by fiscal_year_settings_id
            order by start_date, period_id
        ) as position_in_year
    from quarter_periods

),

with_settings as (

    select
        numbered.period_id,
        numbered.start_date,
        numbered.end_date,
        coalesce(numbered.period_number, numbered.position_in_year) as quarter_number,
        fiscal_years.fiscal_year_name as settings_year_name,
        org_settings.fiscal_year_start_month as start_month,
        org_settings.uses_start_date_as_fiscal_year_name as uses_start_date
    from numbered
    cross join org_settings
    left join fiscal_years
        on numbered.fiscal_year_settings_id = fiscal_years.fiscal_year_settings_id

),

-- A year without a FiscalYearSettings name is named as a standard year would name its last day.
named as (

    select
        period_id,
        start_date,
        {{ add_days('end_date', 1) }} as end_date_exclusive,
        quarter_number,
        coalesce(
            settings_year_name,
            {{ standard_fiscal_year_name('end_date', 'start_month', 'uses_start_date') }}
        ) as fiscal_year_name
    from with_settings

),

final as (

    select
        cast(period_id as {{ text_type() }}) as period_id,
        start_date as quarter_start,
        end_date_exclusive as quarter_end,
        cast(fiscal_year_name as {{ text_type() }}) as fiscal_year_name,
        cast(quarter_number as integer) as quarter_number,
        {{ fiscal_quarter_label('fiscal_year_name', 'quarter_number') }} as quarter_label
    from named

)

select * from final
