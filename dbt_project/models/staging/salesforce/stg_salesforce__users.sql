with

source as (

    select
        Id,
        Name,
        FirstName,
        LastName,
        Username,
        Email,
        Title,
        Department,
        IsActive,
        ManagerId,
        UserRoleId,
        ProfileId,
        TimeZoneSidKey,
        CreatedDate
    from {{ source('salesforce', 'User') }}

),

-- User has no IsDeleted: Salesforce deactivates users instead of deleting them.
renamed as (

    select
        cast(Id as varchar) as user_id,
        cast(Name as varchar) as user_name,
        cast(FirstName as varchar) as first_name,
        cast(LastName as varchar) as last_name,
        cast(Username as varchar) as username,
        cast(Email as varchar) as email,
        cast(Title as varchar) as title,
        cast(Department as varchar) as department,
        coalesce(cast(IsActive as boolean), false) as is_active,
        cast(ManagerId as varchar) as manager_id,
        cast(UserRoleId as varchar) as user_role_id,
        cast(ProfileId as varchar) as profile_id,
        cast(nullif(TimeZoneSidKey, '') as varchar) as time_zone,
        {{ to_org_time('CreatedDate') }} as created_at
    from source

),

final as (

    select * from renamed

)

select * from final
