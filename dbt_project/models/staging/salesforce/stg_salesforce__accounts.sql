with

source as (

    select
        Id,
        Name,
        Industry,
        Type,
        BillingCountry,
        NumberOfEmployees,
        AnnualRevenue,
        OwnerId,
        IsDeleted,
        CreatedDate
    from {{ source('salesforce', 'Account') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as account_id,
        cast(Name as {{ text_type() }}) as account_name,
        cast(Industry as {{ text_type() }}) as industry,
        cast(Type as {{ text_type() }}) as account_type,
        cast(BillingCountry as {{ text_type() }}) as billing_country,
        cast(NumberOfEmployees as bigint) as number_of_employees,
        cast(AnnualRevenue as {{ double_type() }}) as annual_revenue,
        cast(OwnerId as {{ text_type() }}) as owner_id,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
