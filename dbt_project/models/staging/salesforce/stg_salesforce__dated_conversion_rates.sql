with

source as (

    select
        Id,
        IsoCode,
        ConversionRate,
        StartDate,
        NextStartDate
    from {{ source('salesforce', 'DatedConversionRate') }}

),

-- Advanced Currency Management: the rate holds from StartDate (inclusive) to NextStartDate
-- (exclusive); an empty NextStartDate is the open-ended latest rate.
renamed as (

    select
        cast(Id as {{ text_type() }}) as dated_conversion_rate_id,
        cast(upper(trim(IsoCode)) as {{ text_type() }}) as iso_code,
        cast(ConversionRate as {{ double_type() }}) as conversion_rate,
        cast(StartDate as date) as start_date,
        cast(NextStartDate as date) as next_start_date
    from source
    where nullif(trim(IsoCode), '') is not null

),

final as (

    select * from renamed

)

select * from final
