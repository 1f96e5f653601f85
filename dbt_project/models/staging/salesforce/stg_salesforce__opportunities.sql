with

source as (

    select
        Id,
        Name,
        AccountId,
        OwnerId,
        StageName,
        Amount,
        CloseDate,
        Probability,
        ForecastCategoryName,
        Type,
        LeadSource,
        NextStep,
        Description,
        IsClosed,
        IsWon,
        Loss_Reason__c,
        CurrencyIsoCode,
        RecordTypeId,
        IsDeleted,
        CreatedDate,
        LastModifiedDate,
        SystemModstamp
    from {{ source('salesforce', 'Opportunity') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

renamed as (

    select
        cast(Id as varchar) as opportunity_id,
        cast(Name as varchar) as opportunity_name,
        cast(AccountId as varchar) as account_id,
        cast(OwnerId as varchar) as owner_id,
        cast(StageName as varchar) as stage_name,
        cast(Amount as double precision) as amount,
        cast(CloseDate as date) as close_date,
        cast(Probability as double precision) as probability,
        cast({{ forecast_category_label('ForecastCategoryName') }} as varchar)
            as forecast_category_name,
        cast(Type as varchar) as opportunity_type,
        cast(LeadSource as varchar) as lead_source,
        cast(NextStep as varchar) as next_step,
        cast(Description as varchar) as description,
        coalesce(cast(IsClosed as boolean), false) as is_closed,
        coalesce(cast(IsWon as boolean), false) as is_won,
        -- Custom field Loss_Reason__c: all-null when the org does not have it.
        cast(Loss_Reason__c as varchar) as loss_reason,
        -- Multi-currency orgs only: the currency of Amount (empty means the corporate one).
        cast(upper(nullif(trim(CurrencyIsoCode), '')) as varchar) as currency_iso_code,
        cast(nullif(RecordTypeId, '') as varchar) as record_type_id,
        {{ to_org_time('CreatedDate') }} as created_at,
        {{ to_org_time('LastModifiedDate') }} as last_modified_at,
        {{ to_org_time('SystemModstamp') }} as system_modstamp_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
