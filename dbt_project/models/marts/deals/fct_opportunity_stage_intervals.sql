with

stage_runs as (

    select
        stage_run_key,
        opportunity_id,
        stage_run_number,
        stage_name,
        entered_at,
        exited_at,
        next_stage_name,
        days_in_stage
    from {{ ref('int_stage_runs_timed') }}

),

stages as (

    select
        stage_name,
        sort_order
    from {{ ref('int_opportunity_stages_ordered') }}

),

final as (

    select
        stage_runs.stage_run_key,
        stage_runs.opportunity_id,
        stage_runs.stage_run_number,
        stage_runs.stage_name,
        stages.sort_order,
        stage_runs.entered_at,
        stage_runs.exited_at,
        stage_runs.next_stage_name,
        stage_runs.days_in_stage
    from stage_runs
    left join stages
        on stage_runs.stage_name = stages.stage_name

)

select * from final
