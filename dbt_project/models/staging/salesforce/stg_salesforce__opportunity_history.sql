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
        cast(Id as varchar) as opportunity_history_id,
        cast(OpportunityId as varchar) as opportunity_id,
        cast(StageName as varchar) as stage_name,
        cast(Amount as double precision) as amount,
        cast(CloseDate as date) as close_date,
        cast(Probability as double precision) as probability,
        cast({{ forecast_category_label('ForecastCategory') }} as varchar) as forecast_category,
        -- The row's own currency; empty means the opportunity's current one.
        cast(upper(nullif(trim(CurrencyIsoCode), '')) as varchar) as currency_iso_code,
        cast(CreatedById as varchar) as created_by_id,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
