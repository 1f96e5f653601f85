with

source as (

    select
        Id,
        Name,
        FiscalYearStartMonth,
        UsesStartDateAsFiscalYearName,
        DefaultLocaleSidKey,
        LanguageLocaleKey,
        TimeZoneSidKey
    from {{ source('salesforce', 'Organization') }}

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as organization_id,
        cast(Name as {{ text_type() }}) as organization_name,
        cast(FiscalYearStartMonth as integer) as fiscal_year_start_month,
        cast(UsesStartDateAsFiscalYearName as boolean) as uses_start_date_as_fiscal_year_name,
        cast(nullif(DefaultLocaleSidKey, '') as {{ text_type() }}) as default_locale,
        cast(nullif(LanguageLocaleKey, '') as {{ text_type() }}) as language_locale,
        cast(nullif(TimeZoneSidKey, '') as {{ text_type() }}) as time_zone
    from source

),

final as (

    select * from renamed

)

select * from final
