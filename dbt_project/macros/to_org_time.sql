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

{% macro snowflake__to_org_time(column) -%}
    cast(convert_timezone('{{ var("org_timezone") }}', {{ column }}) as timestamp_ntz)
{%- endmacro %}

{#- BigQuery's naive timestamp is a datetime. -#}
{% macro bigquery__to_org_time(column) -%}
    datetime({{ column }}, '{{ var("org_timezone") }}')
{%- endmacro %}
