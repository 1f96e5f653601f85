{#- The run week, read at run time so that dbt's partial parsing survives a new week
    (docs/decisions.md, "The run week reaches dbt at run time"). dbt re-parses the whole project
    when any --vars value changes, and tracks every env_var() read while it parses: so the week
    is read only when `execute` is true, from var `week` when one is given (by hand, or a unit
    test's `overrides: vars`), else from the environment variable SALESPREP_DBT_WEEK, which
    salesprep.warehouse sets. While dbt parses, a fixed placeholder week stands in. -#}

{% macro run_week() -%}
    {%- if not execute -%}
        {{ return('2000-W01') }}
    {%- endif -%}
    {%- set given = var('week', none) -%}
    {%- if given is none or (given | string | trim) == '' -%}
        {%- set given = env_var('SALESPREP_DBT_WEEK', '') -%}
    {%- endif -%}
    {%- if (given | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error(
            "no run week: set the environment variable SALESPREP_DBT_WEEK (salesprep.warehouse"
            ~ " does) or pass --vars '{week: YYYY-Www}'"
        ) }}
    {%- endif -%}
    {{ return(given | string | trim) }}
{%- endmacro %}

{#- Which weeks the data tests of the weekly (replace_weeks) models check: 'window' in a
    weekly run, whose increments rebuild only var week and the lookback weeks before it (the
    other weeks were tested when they were built), 'all' otherwise. salesprep.warehouse sets
    SALESPREP_DBT_TEST_SCOPE=window for an incremental build into an existing warehouse; a
    --full-refresh build, a first build, CI and dbt by hand test whole tables. Read at run
    time only, like the week. -#}
{% macro test_scope() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return('all') }}
    {%- endif -%}
    {%- set scope = env_var('SALESPREP_DBT_TEST_SCOPE', 'all') | trim | lower -%}
    {%- if scope not in ('all', 'window') -%}
        {{ exceptions.raise_compiler_error(
            "SALESPREP_DBT_TEST_SCOPE=" ~ scope ~ " is neither 'all' nor 'window'"
        ) }}
    {%- endif -%}
    {{ return(scope) }}
{%- endmacro %}

{#- dbt's hook for the `where` config of data tests, overridden as dbt documents for custom
    logic (the config itself is rendered when dbt parses, so it cannot name the run week):
    1. the placeholder __run_week__ in a test's `where` becomes the quoted run week;
    2. in a weekly run (test_scope() 'window'), the tests of a model built with the
       replace_weeks strategy see only the weeks that run rebuilt. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__run_week__' in where -%}
        {%- set where = where | replace('__run_week__', "'" ~ run_week() ~ "'") -%}
    {%- endif -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if execute and test_scope() == 'window' and rebuilds_weeks(model) -%}
        {%- do conditions.append(
            "week >= '" ~ window_first_week() ~ "' and week <= '" ~ run_week() ~ "'"
        ) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- True when the data test `test_node` is attached to a model built with the replace_weeks
    incremental strategy (its rows of other weeks are left as earlier runs wrote them). -#}
{% macro rebuilds_weeks(test_node) -%}
    {%- set attached = test_node.get('attached_node') -%}
    {%- if not attached or attached not in graph.nodes -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set parent = graph.nodes[attached].config -%}
    {{ return(parent.materialized == 'incremental' and parent.incremental_strategy == 'replace_weeks') }}
{%- endmacro %}
