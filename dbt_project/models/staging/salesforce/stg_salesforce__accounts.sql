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
        cast(Id as varchar) as account_id,
        cast(Name as varchar) as account_name,
        cast(Industry as varchar) as industry,
        cast(Type as varchar) as account_type,
        cast(BillingCountry as varchar) as billing_country,
        cast(NumberOfEmployees as bigint) as number_of_employees,
        cast(AnnualRevenue as double precision) as annual_revenue,
        cast(OwnerId as varchar) as owner_id,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
