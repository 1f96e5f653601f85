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
        cast(Id as {{ text_type() }}) as fiscal_year_settings_id,
        cast(nullif(trim(Name), '') as {{ text_type() }}) as fiscal_year_name,
        cast(StartDate as date) as start_date,
        cast(EndDate as date) as end_date,
        cast(IsStandardYear as boolean) as is_standard_year,
        cast(YearType as {{ text_type() }}) as year_type,
        cast(QuarterLabelScheme as {{ text_type() }}) as quarter_label_scheme,
        cast(QuarterPrefix as {{ text_type() }}) as quarter_prefix
    from source

),

final as (

    select * from renamed

)

select * from final
