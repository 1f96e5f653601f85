with

source as (

    select
        Id,
        FiscalYearSettingsId,
        Type,
        StartDate,
        EndDate,
        Number,
        QuarterLabel,
        PeriodLabel,
        FullyQualifiedLabel,
        IsForecastPeriod
    from {{ source('salesforce', 'Period') }}

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as period_id,
        cast(FiscalYearSettingsId as {{ text_type() }}) as fiscal_year_settings_id,
        cast(Type as {{ text_type() }}) as period_type,
        cast(StartDate as date) as start_date,
        cast(EndDate as date) as end_date,
        cast(Number as integer) as period_number,
        cast(QuarterLabel as {{ text_type() }}) as quarter_label,
        cast(PeriodLabel as {{ text_type() }}) as period_label,
        cast(FullyQualifiedLabel as {{ text_type() }}) as fully_qualified_label,
        cast(IsForecastPeriod as boolean) as is_forecast_period
    from source

),

final as (

    select * from renamed

)

select * from final
