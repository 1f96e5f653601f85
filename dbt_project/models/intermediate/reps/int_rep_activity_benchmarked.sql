{%- set metrics = activity_metrics() -%}

with

pairs as (

    select
        pair_id,
        manager_id,
        rep_id
    from {{ ref('dim_sales_pairs') }}

),

rep_activity as (

    select
        rep_id,
        week,
        week_start,
        week_end,
        {{ metrics | join(',\n        ') }}
    from {{ ref('fct_rep_activity_weekly') }}

),

-- Weeks before the first week with any data had no activity, so they count as 0 in the prior
-- week and in the 4-week mean, which is always over 4 weeks.
rep_history as (

    select
        pairs.pair_id,
        pairs.manager_id,
        rep_activity.rep_id,
        rep_activity.week,
        rep_activity.week_start,
        rep_activity.week_end,
        {% for metric in metrics %}
        cast(rep_activity.{{ metric }} as double precision) as {{ metric }},
        cast(coalesce(
            lag(rep_activity.{{ metric }}) over (
                partition by rep_activity.rep_id
                order by rep_activity.week_start
            ),
            0
        ) as double precision) as {{ metric }}_prior_week,
        cast(coalesce(
            sum(rep_activity.{{ metric }}) over (
                partition by rep_activity.rep_id
                order by rep_activity.week_start
                rows between 4 preceding and 1 preceding
            ),
            0
        ) as double precision) / 4 as {{ metric }}_avg_4w{% if not loop.last %},{% endif %}
        {% endfor %}
    from rep_activity
    inner join pairs
        on rep_activity.rep_id = pairs.rep_id

),

team_medians as (

    select
        manager_id,
        week,
        {% for metric in metrics %}
        {{ median(metric) }} as {{ metric }}_team_median{% if not loop.last %},{% endif %}
        {% endfor %}
    from rep_history
    group by manager_id, week

),

final as (

    select
        rep_history.*,
        {% for metric in metrics %}
        cast(team_medians.{{ metric }}_team_median as double precision) as {{ metric }}_team_median
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from rep_history
    inner join team_medians
        on rep_history.manager_id = team_medians.manager_id
            and rep_history.week = team_medians.week

)

select * from final
