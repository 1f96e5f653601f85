with

source as (

    select
        Id,
        Name,
        DeveloperName,
        SobjectType,
        IsActive
    from {{ source('salesforce', 'RecordType') }}

),

renamed as (

    select
        cast(Id as varchar) as record_type_id,
        cast(Name as varchar) as record_type_name,
        cast(DeveloperName as varchar) as developer_name,
        cast(SobjectType as varchar) as sobject_type,
        coalesce(cast(IsActive as boolean), true) as is_active
    from source

),

final as (

    select * from renamed

)

select * from final
