{%- set metrics = activity_metrics() -%}
{#- The metrics of a kind of activity the org may not log (int_activity_kinds_logged_weekly). -#}
{%- set logged_kinds = ['calls', 'emails', 'meetings'] -%}

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
        {{ metrics | join(',\n        ') }},
        is_calls_logged,
        is_emails_logged,
        is_meetings_logged
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
        rep_activity.is_calls_logged,
        rep_activity.is_emails_logged,
        rep_activity.is_meetings_logged,
        {% for metric in metrics %}
        cast(rep_activity.{{ metric }} as {{ double_type() }}) as {{ metric }},
        cast(coalesce(
            lag(rep_activity.{{ metric }}) over (
                partition by rep_activity.rep_id
                order by rep_activity.week_start
            ),
            0
        ) as {{ double_type() }}) as {{ metric }}_prior_week,
        cast(coalesce(
            sum(rep_activity.{{ metric }}) over (
                partition by rep_activity.rep_id
                order by rep_activity.week_start
                rows between 4 preceding and 1 preceding
            ),
            0
        ) as {{ double_type() }}) / 4 as {{ metric }}_avg_4w{% if not loop.last %},{% endif %}
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

-- A kind the org does not log that week is null in all four fields for every rep: a count of
-- 0 against earlier zeros would read as a rep who stopped, not as data Salesforce never has.
-- Earlier weeks feed prior_week and avg_4w as they are (an unlogged week had no records).
final as (

    select
        rep_history.pair_id,
        rep_history.manager_id,
        rep_history.rep_id,
        rep_history.week,
        rep_history.week_start,
        rep_history.week_end,
        {% for metric in metrics %}
        {%- set suffixes = ['', '_prior_week', '_avg_4w'] %}
        {%- for suffix in suffixes %}
        {% if metric in logged_kinds -%}
        case when rep_history.is_{{ metric }}_logged then rep_history.{{ metric }}{{ suffix }} end
            as {{ metric }}{{ suffix }},
        {%- else -%}
        rep_history.{{ metric }}{{ suffix }},
        {%- endif %}
        {%- endfor %}
        {% if metric in logged_kinds -%}
        case
            when rep_history.is_{{ metric }}_logged
                then cast(team_medians.{{ metric }}_team_median as {{ double_type() }})
        end as {{ metric }}_team_median,
        {%- else -%}
        cast(team_medians.{{ metric }}_team_median as {{ double_type() }})
            as {{ metric }}_team_median,
        {%- endif %}
        {% endfor %}
        rep_history.is_calls_logged,
        rep_history.is_emails_logged,
        rep_history.is_meetings_logged
    from rep_history
    inner join team_medians
        on rep_history.manager_id = team_medians.manager_id
            and rep_history.week = team_medians.week

)

select * from final
