with

source as (

    select
        Id,
        OpportunityId,
        Field,
        OldValue,
        NewValue,
        CreatedById,
        IsDeleted,
        CreatedDate
    from {{ source('salesforce', 'OpportunityFieldHistory') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

-- OldValue/NewValue are anyType: kept as text, the reader casts per field_name.
renamed as (

    select
        cast(Id as varchar) as opportunity_field_history_id,
        cast(OpportunityId as varchar) as opportunity_id,
        cast(Field as varchar) as field_name,
        cast(OldValue as varchar) as old_value,
        cast(NewValue as varchar) as new_value,
        cast(CreatedById as varchar) as created_by_id,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
