{#- One row per rejected learnings entry: what the format refused when the files were read,
    and the action entries the checks across weeks refused. -#}
with

format_rejected as (

    select
        source_path,
        week,
        manager_slug,
        rep_slug,
        manager_id,
        rep_id,
        entry_number,
        problem_key,
        problem,
        fix
    from {{ ref('stg_learnings__rejected') }}

),

action_rejected as (

    select
        source_path,
        week,
        manager_slug,
        rep_slug,
        manager_id,
        rep_id,
        entry_number,
        cast('id' as {{ text_type() }}) as problem_key,
        problem,
        fix
    from {{ ref('int_action_entries_checked') }}
    where not is_accepted

),

pairs as (

    select
        pair_id,
        manager_id,
        rep_id
    from {{ ref('dim_sales_pairs') }}

),

rejected as (

    select * from format_rejected
    union all
    select * from action_rejected

),

final as (

    select
        pairs.pair_id,
        rejected.manager_id,
        rejected.rep_id,
        rejected.week,
        rejected.manager_slug,
        rejected.rep_slug,
        rejected.source_path,
        rejected.entry_number,
        rejected.problem_key,
        rejected.problem,
        rejected.fix
    from rejected
    left join pairs
        on
            rejected.manager_id = pairs.manager_id
            and rejected.rep_id = pairs.rep_id

)

select * from final
