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
        cast(Id as {{ text_type() }}) as opportunity_id,
        cast(Name as {{ text_type() }}) as opportunity_name,
        cast(AccountId as {{ text_type() }}) as account_id,
        cast(OwnerId as {{ text_type() }}) as owner_id,
        cast(StageName as {{ text_type() }}) as stage_name,
        cast(Amount as {{ double_type() }}) as amount,
        cast(CloseDate as date) as close_date,
        cast(Probability as {{ double_type() }}) as probability,
        cast({{ forecast_category_label('ForecastCategoryName') }} as {{ text_type() }})
            as forecast_category_name,
        cast(Type as {{ text_type() }}) as opportunity_type,
        cast(LeadSource as {{ text_type() }}) as lead_source,
        cast(NextStep as {{ text_type() }}) as next_step,
        cast(Description as {{ text_type() }}) as description,
        coalesce(cast(IsClosed as boolean), false) as is_closed,
        coalesce(cast(IsWon as boolean), false) as is_won,
        -- Custom field Loss_Reason__c: all-null when the org does not have it.
        cast(Loss_Reason__c as {{ text_type() }}) as loss_reason,
        -- Multi-currency orgs only: the currency of Amount (empty means the corporate one).
        cast(upper(nullif(trim(CurrencyIsoCode), '')) as {{ text_type() }}) as currency_iso_code,
        cast(nullif(RecordTypeId, '') as {{ text_type() }}) as record_type_id,
        {{ to_org_time('CreatedDate') }} as created_at,
        {{ to_org_time('LastModifiedDate') }} as last_modified_at,
        {{ to_org_time('SystemModstamp') }} as system_modstamp_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
