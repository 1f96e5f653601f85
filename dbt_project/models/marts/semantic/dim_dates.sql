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

    select cast(series.day_ts as date) as date_day
    from bounds
    cross join generate_series(
        cast(bounds.first_day as timestamp),
        cast({{ add_days('bounds.end_day', -1) }} as timestamp),
        interval '1 day'
    ) as series (day_ts)

),

final as (

    select
        days.date_day,
        cast(weeks.week as varchar) as week,  -- noqa: RF04
        weeks.week_start
    from days
    inner join weeks
        on
            days.date_day >= weeks.week_start
            and days.date_day < weeks.week_end

)

select * from final
