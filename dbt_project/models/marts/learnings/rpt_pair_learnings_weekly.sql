with

explained as (

    select
        pair_id,
        manager_id,
        rep_id,
        week,
        week_start,
        week_end,
        learning_id,
        learning_week,
        kind,
        theme,
        body,
        is_shareable,
        is_own_pair,
        source_manager_id,
        source_rep_id,
        source_manager_name,
        source_rep_name,
        source_manager_slug,
        source_rep_slug,
        tags,
        stage_name,
        industry,
        opportunity_id,
        match_reasons,
        why,
        match_count
    from {{ ref('int_learnings_explained') }}

),

-- The most relevant first: most reasons, then the newest.
ranked as (

    select
        explained.*,
        row_number() over (
            partition by explained.pair_id, explained.week
            order by
                explained.match_count desc,
                explained.learning_week desc,
                explained.learning_id asc
        ) as relevance_rank
    from explained

),

final as (

    select * from ranked

)

select * from final
