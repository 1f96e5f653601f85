with

source as (

    select
        Id,
        OpportunityId,
        ContactId,
        Role,
        IsPrimary,
        IsDeleted
    from {{ source('salesforce', 'OpportunityContactRole') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as opportunity_contact_role_id,
        cast(OpportunityId as {{ text_type() }}) as opportunity_id,
        cast(ContactId as {{ text_type() }}) as contact_id,
        cast(Role as {{ text_type() }}) as contact_role,
        coalesce(cast(IsPrimary as boolean), false) as is_primary
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
