with

source as (

    select
        Id,
        IsoCode,
        ConversionRate,
        DecimalPlaces,
        IsActive,
        IsCorporate
    from {{ source('salesforce', 'CurrencyType') }}

),

-- ConversionRate is units of this currency per unit of the corporate currency: an amount in
-- it converts as amount / rate. Inactive currencies keep their rate (old deals still use it).
renamed as (

    select
        cast(Id as varchar) as currency_type_id,
        cast(upper(trim(IsoCode)) as varchar) as iso_code,
        cast(ConversionRate as double precision) as conversion_rate,
        cast(DecimalPlaces as integer) as decimal_places,
        coalesce(cast(IsActive as boolean), false) as is_active,
        coalesce(cast(IsCorporate as boolean), false) as is_corporate
    from source
    where nullif(trim(IsoCode), '') is not null

),

final as (

    select * from renamed

)

select * from final
