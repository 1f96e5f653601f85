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
        is_own_pair,
        match_reasons,
        why,
        match_count
    from {{ ref('int_learnings_explained') }}

),

learnings as (

    select
        learning_id,
        manager_id,
        rep_id,
        manager_name,
        rep_name,
        manager_slug,
        rep_slug,
        kind,
        theme,
        body,
        is_shareable,
        tags,
        stage_name,
        industry,
        opportunity_id
    from {{ ref('fct_learnings') }}

),

-- The most relevant first: most reasons, then the newest.
ranked as (

    select
        explained.pair_id,
        explained.manager_id,
        explained.rep_id,
        explained.week,
        explained.week_start,
        explained.week_end,
        explained.learning_id,
        explained.learning_week,
        learnings.kind,
        learnings.theme,
        learnings.body,
        learnings.is_shareable,
        explained.is_own_pair,
        learnings.manager_id as source_manager_id,
        learnings.rep_id as source_rep_id,
        learnings.manager_name as source_manager_name,
        learnings.rep_name as source_rep_name,
        learnings.manager_slug as source_manager_slug,
        learnings.rep_slug as source_rep_slug,
        learnings.tags,
        learnings.stage_name,
        learnings.industry,
        learnings.opportunity_id,
        explained.match_reasons,
        explained.why,
        explained.match_count,
        row_number() over (
            partition by explained.pair_id, explained.week
            order by
                explained.match_count desc,
                explained.learning_week desc,
                explained.learning_id asc
        ) as relevance_rank
    from explained
    inner join learnings
        on explained.learning_id = learnings.learning_id

),

final as (

    select * from ranked

)

select * from final
