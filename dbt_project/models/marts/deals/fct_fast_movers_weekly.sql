with

deal_movement as (

    select
        opportunity_id,
        week,
        rep_id,
        stage_start,
        stage_end,
        movement,
        cycle_days
    from {{ ref('fct_deal_movement_weekly') }}
    where
        movement in ('won', 'advanced')
        and {{ in_build_window('week') }}

),

won_cycles as (

    select
        week,
        cycle_p25_days
    from {{ ref('int_won_cycles_summarized_weekly') }}
    where {{ in_build_window('week') }}

),

stages as (

    select
        stage_name,
        stage_position
    from {{ ref('int_opportunity_stages_ordered') }}

),

-- Deals won this week whose cycle is at or below the week's won-cycle percentile.
fast_cycles as (

    select
        deal_movement.opportunity_id,
        deal_movement.week,
        deal_movement.rep_id,
        'fast_cycle' as reason,
        deal_movement.cycle_days,
        won_cycles.cycle_p25_days,
        cast(null as integer) as stages_advanced
    from deal_movement
    inner join won_cycles
        on deal_movement.week = won_cycles.week
    where
        deal_movement.movement = 'won'
        and deal_movement.cycle_days <= won_cycles.cycle_p25_days

),

-- Open deals that moved up by at least fast_mover_min_stage_jump positions of the stage list.
stage_jumps as (

    select
        deal_movement.opportunity_id,
        deal_movement.week,
        deal_movement.rep_id,
        'stage_jump' as reason,
        cast(null as integer) as cycle_days,
        won_cycles.cycle_p25_days,
        cast(stages_end.stage_position - stages_start.stage_position as integer) as stages_advanced
    from deal_movement
    inner join stages as stages_start
        on deal_movement.stage_start = stages_start.stage_name
    inner join stages as stages_end
        on deal_movement.stage_end = stages_end.stage_name
    left join won_cycles
        on deal_movement.week = won_cycles.week
    where
        deal_movement.movement = 'advanced'
        and stages_end.stage_position - stages_start.stage_position
        >= {{ deals_rule('fast_mover_min_stage_jump') }}

),

fast_movers as (

    select * from fast_cycles
    union all
    select * from stage_jumps

),

final as (

    select
        opportunity_id,
        week,
        rep_id,
        cast(reason as {{ text_type() }}) as reason,
        cycle_days,
        cycle_p25_days,
        stages_advanced
    from fast_movers

)

select * from final
