{#- A continuous percentile (0..1) as an aggregate: `percentile_cont` differs in syntax. -#}
{% macro percentile_cont(column, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'salesprep')(column, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(column, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__percentile_cont(column, fraction) -%}
    quantile_cont({{ column }}, {{ fraction }})
{%- endmacro %}

{#- The median as an aggregate, on both targets. -#}
{% macro median(column) -%}
    {{ salesprep.percentile_cont(column, 0.5) }}
{%- endmacro %}

{#- A SQL list literal of strings from a var holding a list (or a comma-separated string). -#}
{% macro sql_string_list(values) -%}
    {%- if values is string -%}
        {%- set values = values.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    {%- if values | length == 0 -%}
        (null)
    {%- else -%}
        ({% for v in values %}'{{ v | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}
