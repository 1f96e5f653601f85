with

source as (

    select
        Id,
        QuotaOwnerId,
        StartDate,
        QuotaAmount,
        CurrencyIsoCode,
        ForecastingTypeId
    from {{ source('salesforce', 'ForecastingQuota') }}

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as forecasting_quota_id,
        cast(QuotaOwnerId as {{ text_type() }}) as quota_owner_id,
        cast(StartDate as date) as start_date,
        cast(QuotaAmount as {{ double_type() }}) as quota_amount,
        cast(upper(nullif(trim(CurrencyIsoCode), '')) as {{ text_type() }}) as currency_iso_code,
        cast(ForecastingTypeId as {{ text_type() }}) as forecasting_type_id
    from source

),

final as (

    select * from renamed

)

select * from final
