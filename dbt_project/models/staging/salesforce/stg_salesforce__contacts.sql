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
        cast(Id as {{ text_type() }}) as contact_id,
        cast(AccountId as {{ text_type() }}) as account_id,
        cast(FirstName as {{ text_type() }}) as first_name,
        cast(LastName as {{ text_type() }}) as last_name,
        cast(Title as {{ text_type() }}) as title,
        cast(Email as {{ text_type() }}) as email,
        cast(OwnerId as {{ text_type() }}) as owner_id
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
