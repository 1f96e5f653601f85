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

{#- BigQuery has percentile_cont only as a window function: the group's values as an array,
    and the window function over its elements (exact, unlike approx_quantiles). -#}
{% macro bigquery__percentile_cont(column, fraction) -%}
    (
        select percentile_cont(group_value, {{ fraction }}) over ()
        from unnest(array_agg({{ column }} ignore nulls)) as group_value
        limit 1
    )
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
