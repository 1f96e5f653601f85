{#- A UTC instant (timestamptz) as a naive timestamp in the org timezone (var org_timezone):
    weeks are bucketed on the org's wall clock (docs/metrics.md, Time). -#}
{% macro to_org_time(column) -%}
    {{ return(adapter.dispatch('to_org_time', 'salesprep')(column)) }}
{%- endmacro %}

{% macro default__to_org_time(column) -%}
    ({{ column }} at time zone '{{ var("org_timezone") }}')
{%- endmacro %}

{% macro duckdb__to_org_time(column) -%}
    timezone('{{ var("org_timezone") }}', {{ column }})
{%- endmacro %}
