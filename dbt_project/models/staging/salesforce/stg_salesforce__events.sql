{#- Incremental (macros/staging_increments.sql): a weekly build stages only the rows changed
    since the last one; readers scan a table instead of the whole landing zone. -#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ staging_drop_deleted(source('salesforce', 'Event'), 'event_id') }}",
    post_hook="{{ staging_drop_vanished(source('salesforce', 'Event'), 'event_id') }}",
) }}

with

source as (

    select
        Id,
        OwnerId,
        WhatId,
        WhoId,
        Subject,
        StartDateTime,
        EndDateTime,
        DurationInMinutes,
        ActivityDate,
        Type,
        EventSubtype,
        IsArchived,
        IsDeleted,
        CreatedDate,
        SystemModstamp
    from {{ source('salesforce', 'Event') }}
    where {{ staging_changed_rows(source('salesforce', 'Event'), 'event_id') }}

),

not_deleted as (

    select * from source
    where coalesce(IsDeleted, false) = false

),

renamed as (

    select
        cast(Id as {{ text_type() }}) as event_id,
        cast(OwnerId as {{ text_type() }}) as owner_id,
        cast(WhatId as {{ text_type() }}) as what_id,
        cast(WhoId as {{ text_type() }}) as who_id,
        cast(Subject as {{ text_type() }}) as subject,
        {{ to_org_time('StartDateTime') }} as start_at,
        {{ to_org_time('EndDateTime') }} as end_at,
        cast(DurationInMinutes as bigint) as duration_minutes,
        cast(ActivityDate as date) as activity_date,
        cast(nullif(Type, '') as {{ text_type() }}) as event_type,
        cast(nullif(EventSubtype, '') as {{ text_type() }}) as event_subtype,
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
