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
        cast(Id as {{ text_type() }}) as currency_type_id,
        cast(upper(trim(IsoCode)) as {{ text_type() }}) as iso_code,
        cast(ConversionRate as {{ double_type() }}) as conversion_rate,
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
