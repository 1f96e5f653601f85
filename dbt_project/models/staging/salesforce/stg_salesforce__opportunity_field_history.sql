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
        cast(Id as {{ text_type() }}) as opportunity_field_history_id,
        cast(OpportunityId as {{ text_type() }}) as opportunity_id,
        cast(Field as {{ text_type() }}) as field_name,
        cast(OldValue as {{ text_type() }}) as old_value,
        cast(NewValue as {{ text_type() }}) as new_value,
        cast(CreatedById as {{ text_type() }}) as created_by_id,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
