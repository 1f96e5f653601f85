{#- The team trend chart of the manager's team page: one row per manager per week, the reps'
    weekly numbers (rpt_pair_prep_weekly, rpt_manager_team_weekly) summed over the team. -#}
with

prep as (

    select
        pair_id,
        week,
        calls,
        emails,
        meetings,
        pipeline_created,
        closed_won_amount
    from {{ ref('rpt_pair_prep_weekly') }}
    where {{ in_build_window('week') }}

),

team as (

    select
        pair_id,
        manager_id,
        manager_name,
        week,
        week_start,
        week_end,
        open_pipeline,
        stuck_deals,
        stuck_amount
    from {{ ref('rpt_manager_team_weekly') }}
    where {{ in_build_window('week') }}

),

-- A kind of activity the org does not log is null for every rep of the week, and stays null
-- (sum of nulls) for the team: a gap in the chart, not a zero.
summed as (

    select
        team.manager_id,
        team.week,
        team.week_start,
        team.week_end,
        max(team.manager_name) as manager_name,
        count(*) as reps,
        sum(prep.calls) as calls,
        sum(prep.emails) as emails,
        sum(prep.meetings) as meetings,
        sum(prep.pipeline_created) as pipeline_created,
        sum(prep.closed_won_amount) as closed_won_amount,
        sum(team.open_pipeline) as open_pipeline,
        sum(team.stuck_deals) as stuck_deals,
        sum(team.stuck_amount) as stuck_amount
    from team
    inner join prep
        on
            team.pair_id = prep.pair_id
            and team.week = prep.week
    group by
        team.manager_id,
        team.week,
        team.week_start,
        team.week_end

),

final as (

    select
        cast(manager_id as {{ text_type() }}) as manager_id,
        cast(manager_name as {{ text_type() }}) as manager_name,
        cast(week as {{ text_type() }}) as week,  -- noqa: RF04
        week_start,
        week_end,
        cast(reps as integer) as reps,
        cast(calls as integer) as calls,
        cast(emails as integer) as emails,
        cast(meetings as integer) as meetings,
        cast(pipeline_created as {{ double_type() }}) as pipeline_created,
        cast(closed_won_amount as {{ double_type() }}) as closed_won_amount,
        cast(open_pipeline as {{ double_type() }}) as open_pipeline,
        cast(stuck_deals as integer) as stuck_deals,
        cast(stuck_amount as {{ double_type() }}) as stuck_amount
    from summed

)

select * from final
