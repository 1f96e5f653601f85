with

source as (

    select
        Id,
        OwnerId,
        WhatId,
        WhoId,
        Subject,
        ActivityDate,
        Status,
        IsClosed,
        Type,
        TaskSubtype,
        CallDurationInSeconds,
        IsArchived,
        IsDeleted,
        CreatedDate
    from {{ source('salesforce', 'Task') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

-- Empty picklist values arrive as '' from some exports: nullif keeps the TaskSubtype -> Type
-- fallback of the activity metrics honest.
renamed as (

    select
        cast(Id as {{ text_type() }}) as task_id,
        cast(OwnerId as {{ text_type() }}) as owner_id,
        cast(WhatId as {{ text_type() }}) as what_id,
        cast(WhoId as {{ text_type() }}) as who_id,
        cast(Subject as {{ text_type() }}) as subject,
        cast(ActivityDate as date) as activity_date,
        cast(Status as {{ text_type() }}) as status,
        coalesce(cast(IsClosed as boolean), false) as is_closed,
        cast(nullif(Type, '') as {{ text_type() }}) as task_type,
        cast(nullif(TaskSubtype, '') as {{ text_type() }}) as task_subtype,
        cast(CallDurationInSeconds as bigint) as call_duration_seconds,
        -- Archived activities (older than a year) still count: extraction reads them via queryAll.
        coalesce(cast(IsArchived as boolean), false) as is_archived,
        {{ to_org_time('CreatedDate') }} as created_at
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
