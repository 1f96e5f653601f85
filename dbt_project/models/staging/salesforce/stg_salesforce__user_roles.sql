with

source as (

    select
        Id,
        Name,
        DeveloperName,
        ParentRoleId
    from {{ source('salesforce', 'UserRole') }}

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as user_role_id,
        cast(Name as {{ text_type() }}) as user_role_name,
        cast(DeveloperName as {{ text_type() }}) as developer_name,
        cast(ParentRoleId as {{ text_type() }}) as parent_role_id
    from source

),

final as (

    select * from renamed

)

select * from final
