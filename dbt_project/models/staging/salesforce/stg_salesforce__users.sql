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
        cast(Id as {{ text_type() }}) as user_id,
        cast(Name as {{ text_type() }}) as user_name,
        cast(FirstName as {{ text_type() }}) as first_name,
        cast(LastName as {{ text_type() }}) as last_name,
        cast(Username as {{ text_type() }}) as username,
        cast(Email as {{ text_type() }}) as email,
        cast(Title as {{ text_type() }}) as title,
        cast(Department as {{ text_type() }}) as department,
        coalesce(cast(IsActive as boolean), false) as is_active,
        cast(ManagerId as {{ text_type() }}) as manager_id,
        cast(UserRoleId as {{ text_type() }}) as user_role_id,
        cast(ProfileId as {{ text_type() }}) as profile_id,
        cast(nullif(TimeZoneSidKey, '') as {{ text_type() }}) as time_zone,
        {{ to_org_time('CreatedDate') }} as created_at
    from source

),

final as (

    select * from renamed

)

select * from final
