{#- The agreed actions of the learnings Parquet (var `learnings_path`): each action recorded,
    and each later marker that says one is done. Without the file, an empty relation. -#}
with

source as (

    {% if var('learnings_path', '') | trim != '' -%}
    select
        learning_id,
        week,
        manager_slug,
        rep_slug,
        manager_id,
        rep_id,
        action_id,
        owner,
        due_date,
        opportunity_id,
        shareable,
        status,
        body,
        source_path,
        entry_number
    from {{ source('learnings', 'entries') }}
    where kind = 'action'
    {%- else -%}
    select
        cast(null as {{ text_type() }}) as learning_id,
        cast(null as {{ text_type() }}) as week,  -- noqa: RF04
        cast(null as {{ text_type() }}) as manager_slug,
        cast(null as {{ text_type() }}) as rep_slug,
        cast(null as {{ text_type() }}) as manager_id,
        cast(null as {{ text_type() }}) as rep_id,
        cast(null as {{ text_type() }}) as action_id,
        cast(null as {{ text_type() }}) as owner,  -- noqa: RF04
        cast(null as date) as due_date,
        cast(null as {{ text_type() }}) as opportunity_id,
        cast(null as boolean) as shareable,
        cast(null as {{ text_type() }}) as status,  -- noqa: RF04
        cast(null as {{ text_type() }}) as body,
        cast(null as {{ text_type() }}) as source_path,
        cast(null as integer) as entry_number
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        cast(learning_id as {{ text_type() }}) as action_entry_id,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        cast(manager_slug as {{ text_type() }}) as manager_slug,
        cast(rep_slug as {{ text_type() }}) as rep_slug,
        cast(manager_id as {{ text_type() }}) as manager_id,
        cast(rep_id as {{ text_type() }}) as rep_id,
        cast(action_id as {{ text_type() }}) as action_id,
        lower(cast(owner as {{ text_type() }})) as owner,  -- noqa: RF04
        cast(due_date as date) as due_date,
        nullif(trim(cast(opportunity_id as {{ text_type() }})), '') as opportunity_id,
        coalesce(cast(shareable as boolean), false) as is_shareable,
        lower(cast(status as {{ text_type() }})) as entry_status,
        cast(body as {{ text_type() }}) as body,
        cast(source_path as {{ text_type() }}) as source_path,
        cast(entry_number as integer) as entry_number
    from source

),

final as (

    select * from renamed

)

select * from final
