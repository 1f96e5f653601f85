{%- set metrics = activity_metrics() -%}

with

benchmarked as (

    select * from {{ ref('int_rep_activities_benchmarked') }}
    where {{ in_build_window('week') }}

),

-- One row per metric: the packet reads metrics.<name> = {this_week, prior_week, avg_4w,
-- team_median}.
unpivoted as (

    {% for metric in metrics %}
    {%- set logged = 'is_' ~ metric ~ '_logged' if metric in ['calls', 'emails', 'meetings']
        else 'true' %}
    select
        pair_id,
        manager_id,
        rep_id,
        week,
        week_start,
        week_end,
        cast('{{ metric }}' as {{ text_type() }}) as metric,
        {{ metric }} as this_week,
        {{ metric }}_prior_week as prior_week,
        {{ metric }}_avg_4w as avg_4w,
        {{ metric }}_team_median as team_median,
        {{ logged }} as is_logged
    from benchmarked
    {% if not loop.last %}
    union all

    {% endif -%}
    {% endfor %}

),

final as (

    select * from unpivoted

)

select * from final
