with

source as (

    select
        Id,
        AccountId,
        FirstName,
        LastName,
        Title,
        Email,
        OwnerId,
        IsDeleted
    from {{ source('salesforce', 'Contact') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

renamed as (

    select
        cast(Id as varchar) as contact_id,
        cast(AccountId as varchar) as account_id,
        cast(FirstName as varchar) as first_name,
        cast(LastName as varchar) as last_name,
        cast(Title as varchar) as title,
        cast(Email as varchar) as email,
        cast(OwnerId as varchar) as owner_id
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
