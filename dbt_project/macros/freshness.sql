{#- Source freshness as of the run week, not the wall clock (docs/decisions.md, "Freshness
    against the run week"). dbt's own collect_freshness compares the newest loaded_at_field
    with current_timestamp, which would fail every backfill of an old week and pass a stale
    landing zone on the day it was extracted. Here "now" is the instant the run week ends
    (macro run_week, Monday 00:00 in var `org_timezone`): the data must reach close to the end of
    the week the marts are built for. Data newer than that (a backfill) has a negative age. -#}
{% macro collect_freshness(source, loaded_at_field, filter) -%}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            {{ run_week_end_instant() }} as snapshotted_at
        from {{ source }}
        {% if filter %}
        where {{ filter }}
        {% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{%- endmacro %}

{#- The end of the run week (macro run_week) as a UTC instant (timestamptz). -#}
{% macro run_week_end_instant() -%}
    {%- set week_end = modules.datetime.date.fromisoformat(week_start_date(run_week()))
        + modules.datetime.timedelta(days=7) -%}
    {{ return(adapter.dispatch('run_week_end_instant', 'salesprep')(week_end.isoformat())) }}
{%- endmacro %}

{% macro default__run_week_end_instant(week_end) -%}
    (cast('{{ week_end }}' as timestamp) at time zone '{{ var("org_timezone") }}')
{%- endmacro %}

{% macro duckdb__run_week_end_instant(week_end) -%}
    timezone('{{ var("org_timezone") }}', cast('{{ week_end }}' as timestamp))
{%- endmacro %}

{% macro snowflake__run_week_end_instant(week_end) -%}
    convert_timezone('{{ var("org_timezone") }}', 'UTC', cast('{{ week_end }}' as timestamp_ntz))
{%- endmacro %}

{% macro bigquery__run_week_end_instant(week_end) -%}
    timestamp(datetime '{{ week_end }}', '{{ var("org_timezone") }}')
{%- endmacro %}
