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
        cast(null as varchar) as learning_id,
        cast(null as varchar) as week,  -- noqa: RF04
        cast(null as varchar) as manager_slug,
        cast(null as varchar) as rep_slug,
        cast(null as varchar) as manager_id,
        cast(null as varchar) as rep_id,
        cast(null as varchar) as kind,
        cast(null as varchar) as theme,
        cast(null as varchar) as body,
        cast(null as boolean) as shareable,
        cast(null as varchar) as tags,
        cast(null as varchar) as stage,  -- noqa: RF04
        cast(null as varchar) as industry,
        cast(null as varchar) as opportunity_id,
        cast(null as varchar) as source_path
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        cast(learning_id as varchar) as learning_id,
        cast(week as varchar) as week,  -- noqa: RF04
        cast(manager_slug as varchar) as manager_slug,
        cast(rep_slug as varchar) as rep_slug,
        cast(manager_id as varchar) as manager_id,
        cast(rep_id as varchar) as rep_id,
        lower(trim(cast(kind as varchar))) as kind,
        lower(trim(cast(theme as varchar))) as theme,
        cast(body as varchar) as body,
        coalesce(cast(shareable as boolean), false) as is_shareable,
        coalesce(lower(cast(tags as varchar)), '') as tags,
        nullif(trim(cast(stage as varchar)), '') as stage_name,
        nullif(trim(cast(industry as varchar)), '') as industry,
        nullif(trim(cast(opportunity_id as varchar)), '') as opportunity_id,
        cast(source_path as varchar) as source_path
    from source

),

final as (

    select * from renamed

)

select * from final
