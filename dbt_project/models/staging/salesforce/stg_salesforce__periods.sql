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
        cast(Id as varchar) as period_id,
        cast(FiscalYearSettingsId as varchar) as fiscal_year_settings_id,
        cast(Type as varchar) as period_type,
        cast(StartDate as date) as start_date,
        cast(EndDate as date) as end_date,
        cast(Number as integer) as period_number,
        cast(QuarterLabel as varchar) as quarter_label,
        cast(PeriodLabel as varchar) as period_label,
        cast(FullyQualifiedLabel as varchar) as fully_qualified_label,
        cast(IsForecastPeriod as boolean) as is_forecast_period
    from source

),

final as (

    select * from renamed

)

select * from final
