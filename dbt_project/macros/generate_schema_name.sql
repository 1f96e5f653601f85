{#- Custom schemas are used as named (`staging`, `intermediate`, `seeds`) and marts land in
    the target schema, so BI tools read `main.fct_...` in DuckDB without a dbt-style prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
