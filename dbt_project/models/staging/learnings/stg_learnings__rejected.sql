{#- The learnings entries the format rejected (var `learnings_rejected_path`), one row each;
    without the file, an empty relation. -#}
with

source as (

    {% if var('learnings_rejected_path', '') | trim != '' -%}
    select
        source_path,
        week,
        manager_slug,
        rep_slug,
        manager_id,
        rep_id,
        entry_number,
        key,
        problem,
        fix,
        message
    from {{ source('learnings', 'rejected') }}
    {%- else -%}
    select
        cast(null as varchar) as source_path,
        cast(null as varchar) as week,  -- noqa: RF04
        cast(null as varchar) as manager_slug,
        cast(null as varchar) as rep_slug,
        cast(null as varchar) as manager_id,
        cast(null as varchar) as rep_id,
        cast(null as integer) as entry_number,
        cast(null as varchar) as key,  -- noqa: RF04
        cast(null as varchar) as problem,
        cast(null as varchar) as fix,
        cast(null as varchar) as message
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        cast(source_path as varchar) as source_path,
        cast(week as varchar) as week,  -- noqa: RF04
        cast(manager_slug as varchar) as manager_slug,
        cast(rep_slug as varchar) as rep_slug,
        cast(manager_id as varchar) as manager_id,
        cast(rep_id as varchar) as rep_id,
        cast(entry_number as integer) as entry_number,
        cast(key as varchar) as problem_key,
        cast(problem as varchar) as problem,
        cast(fix as varchar) as fix,
        cast(message as varchar) as message
    from source

),

final as (

    select * from renamed

)

select * from final
