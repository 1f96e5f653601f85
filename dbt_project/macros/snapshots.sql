{#- The weekly opportunity snapshots earlier runs appended (fct_opportunity_snapshots_weekly), as
    a relation, or none before the first run wrote them. Looked up, not ref()'d: the snapshot
    model is built from the state models that read it, so a ref would be a cycle. -#}
{% macro weekly_snapshots_relation() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database,
        schema=target.schema,
        identifier='fct_opportunity_snapshots_weekly',
    )) }}
{%- endmacro %}

{#- The lowercase column names of a relation, or [] for none (compile time only). -#}
{% macro relation_column_names(relation) -%}
    {%- if relation is none or not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}
