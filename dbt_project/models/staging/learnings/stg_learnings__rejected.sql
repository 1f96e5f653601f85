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
        cast(null as {{ text_type() }}) as source_path,
        cast(null as {{ text_type() }}) as week,  -- noqa: RF04
        cast(null as {{ text_type() }}) as manager_slug,
        cast(null as {{ text_type() }}) as rep_slug,
        cast(null as {{ text_type() }}) as manager_id,
        cast(null as {{ text_type() }}) as rep_id,
        cast(null as integer) as entry_number,
        cast(null as {{ text_type() }}) as key,  -- noqa: RF04
        cast(null as {{ text_type() }}) as problem,
        cast(null as {{ text_type() }}) as fix,
        cast(null as {{ text_type() }}) as message
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        cast(source_path as {{ text_type() }}) as source_path,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        cast(manager_slug as {{ text_type() }}) as manager_slug,
        cast(rep_slug as {{ text_type() }}) as rep_slug,
        cast(manager_id as {{ text_type() }}) as manager_id,
        cast(rep_id as {{ text_type() }}) as rep_id,
        cast(entry_number as integer) as entry_number,
        cast(key as {{ text_type() }}) as problem_key,
        cast(problem as {{ text_type() }}) as problem,
        cast(fix as {{ text_type() }}) as fix,
        cast(message as {{ text_type() }}) as message
    from source

),

final as (

    select * from renamed

)

select * from final
