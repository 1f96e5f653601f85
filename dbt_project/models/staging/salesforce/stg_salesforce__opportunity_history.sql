with

source as (

    select
        Id,
        OpportunityId,
        StageName,
        Amount,
        CloseDate,
        Probability,
        ForecastCategory,
        CurrencyIsoCode,
        CreatedById,
        IsDeleted,
        CreatedDate
    from {{ source('salesforce', 'OpportunityHistory') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as opportunity_history_id,
        cast(OpportunityId as {{ text_type() }}) as opportunity_id,
        cast(StageName as {{ text_type() }}) as stage_name,
        cast(Amount as {{ double_type() }}) as amount,
        cast(CloseDate as date) as close_date,
        cast(Probability as {{ double_type() }}) as probability,
        cast({{ forecast_category_label('ForecastCategory') }} as {{ text_type() }})
            as forecast_category,
        -- The row's own currency; empty means the opportunity's current one.
        cast(upper(nullif(trim(CurrencyIsoCode), '')) as {{ text_type() }}) as currency_iso_code,
        cast(CreatedById as {{ text_type() }}) as created_by_id,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
