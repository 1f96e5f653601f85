with

stages as (

    select
        stage_name,
        stage_label,
        sort_order,
        stage_position,
        is_closed,
        is_won,
        source
    from {{ ref('int_opportunity_stages_ordered') }}

),

final as (

    select
        stage_name,
        stage_label,
        sort_order,
        stage_position,
        is_closed,
        is_won,
        source
    from stages

)

select * from final
