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
        cast(Id as varchar) as user_role_id,
        cast(Name as varchar) as user_role_name,
        cast(DeveloperName as varchar) as developer_name,
        cast(ParentRoleId as varchar) as parent_role_id
    from source

),

final as (

    select * from renamed

)

select * from final
