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
        cast(Id as {{ text_type() }}) as record_type_id,
        cast(Name as {{ text_type() }}) as record_type_name,
        cast(DeveloperName as {{ text_type() }}) as developer_name,
        cast(SobjectType as {{ text_type() }}) as sobject_type,
        coalesce(cast(IsActive as boolean), true) as is_active
    from source

),

final as (

    select * from renamed

)

select * from final
