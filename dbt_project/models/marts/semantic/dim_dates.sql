{#- One row per day of the warehouse's weeks: the MetricFlow time spine the semantic layer
    (_semantic_models.yml) joins to. Days come from int_weeks_enumerated, so the spine covers
    exactly the weeks the weekly marts do. -#}
with

weeks as (

    select
        week,
        week_start,
        week_end
    from {{ ref('int_weeks_enumerated') }}

),

bounds as (

    select
        min(week_start) as first_day,
        max(week_end) as end_day
    from weeks

),

days as (

    select {{ date_series_value('series', 'bounds.first_day') }} as date_day
    from bounds
    {{ date_series_join('bounds.first_day', add_days('bounds.end_day', -1), 1, 'series') }}

),

final as (

    select
        days.date_day,
        cast(weeks.week as {{ text_type() }}) as week,  -- noqa: RF04
        weeks.week_start
    from days
    inner join weeks
        on
            days.date_day >= weeks.week_start
            and days.date_day < weeks.week_end

)

select * from final
