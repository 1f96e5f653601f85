with

source as (

    select
        Id,
        Name,
        StartDate,
        EndDate,
        IsStandardYear,
        YearType,
        QuarterLabelScheme,
        QuarterPrefix
    from {{ source('salesforce', 'FiscalYearSettings') }}

),

renamed as (

    select
        cast(Id as varchar) as fiscal_year_settings_id,
        cast(nullif(trim(Name), '') as varchar) as fiscal_year_name,
        cast(StartDate as date) as start_date,
        cast(EndDate as date) as end_date,
        cast(IsStandardYear as boolean) as is_standard_year,
        cast(YearType as varchar) as year_type,
        cast(QuarterLabelScheme as varchar) as quarter_label_scheme,
        cast(QuarterPrefix as varchar) as quarter_prefix
    from source

),

final as (

    select * from renamed

)

select * from final
