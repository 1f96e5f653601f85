{#- The lessons and field feedback of the learnings Parquet (var `learnings_path`; its agreed
    actions are stg_learnings__actions; on Postgres, its copy in raw_learnings); without one,
    an empty relation of the same shape, so a build without the load_learnings step still
    compiles. -#}
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
        kind,
        theme,
        body,
        shareable,
        tags,
        stage,
        industry,
        opportunity_id,
        source_path
    from {{ source('learnings', 'entries') }}
    where kind in ('lesson', 'feedback')
    {%- else -%}
    select
        cast(null as {{ text_type() }}) as learning_id,
        cast(null as {{ text_type() }}) as week,  -- noqa: RF04
        cast(null as {{ text_type() }}) as manager_slug,
        cast(null as {{ text_type() }}) as rep_slug,
        cast(null as {{ text_type() }}) as manager_id,
        cast(null as {{ text_type() }}) as rep_id,
        cast(null as {{ text_type() }}) as kind,
        cast(null as {{ text_type() }}) as theme,
        cast(null as {{ text_type() }}) as body,
        cast(null as boolean) as shareable,
        cast(null as {{ text_type() }}) as tags,
        cast(null as {{ text_type() }}) as stage,  -- noqa: RF04
        cast(null as {{ text_type() }}) as industry,
        cast(null as {{ text_type() }}) as opportunity_id,
        cast(null as {{ text_type() }}) as source_path
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        cast(learning_id as {{ text_type() }}) as learning_id,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        cast(manager_slug as {{ text_type() }}) as manager_slug,
        cast(rep_slug as {{ text_type() }}) as rep_slug,
        cast(manager_id as {{ text_type() }}) as manager_id,
        cast(rep_id as {{ text_type() }}) as rep_id,
        lower(trim(cast(kind as {{ text_type() }}))) as kind,
        lower(trim(cast(theme as {{ text_type() }}))) as theme,
        cast(body as {{ text_type() }}) as body,
        coalesce(cast(shareable as boolean), false) as is_shareable,
        coalesce(lower(cast(tags as {{ text_type() }})), '') as tags,
        nullif(trim(cast(stage as {{ text_type() }})), '') as stage_name,
        nullif(trim(cast(industry as {{ text_type() }})), '') as industry,
        nullif(trim(cast(opportunity_id as {{ text_type() }})), '') as opportunity_id,
        cast(source_path as {{ text_type() }}) as source_path
    from source

),

final as (

    select * from renamed

)

select * from final
