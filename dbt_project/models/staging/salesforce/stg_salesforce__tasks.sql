{#- Incremental (macros/staging_increments.sql): a weekly build stages only the rows changed
    since the last one; readers scan a table instead of the whole landing zone. -#}
{{ config(
    materialized='incremental',
    unique_key='task_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ staging_drop_deleted(source('salesforce', 'Task'), 'task_id') }}",
    post_hook="{{ staging_drop_vanished(source('salesforce', 'Task'), 'task_id') }}",
) }}

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
        CreatedDate,
        SystemModstamp
    from {{ source('salesforce', 'Task') }}
    where {{ staging_changed_rows(source('salesforce', 'Task'), 'task_id') }}

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
        {{ to_org_time('CreatedDate') }} as created_at,
        -- UTC, as landed: the watermark of the incremental build.
        SystemModstamp as system_modstamp
    from not_deleted

),

final as (

    select * from renamed

)

select * from final
