{#- SQL that differs between warehouses, beyond dbt's own cross-database macros (dbt.dateadd,
    dbt.datediff, dbt.date_trunc, dbt.bool_or, dbt.listagg, dbt.safe_cast, ...). Each macro has
    a default (Postgres, and DuckDB where it agrees) and a version for each adapter whose SQL
    differs: DuckDB and Postgres run in CI, Snowflake and BigQuery are only compiled
    (tests/warehouse/test_cross_database.py, docs/deploy.md). -#}

{#- The text type of a cast: varchar, which BigQuery calls string. -#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'salesprep')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    varchar
{%- endmacro %}

{% macro bigquery__text_type() -%}
    {{ dbt.type_string() }}
{%- endmacro %}

{#- The type of a cast to a double: double precision, which BigQuery calls float64. -#}
{% macro double_type() -%}
    {{ return(adapter.dispatch('double_type', 'salesprep')()) }}
{%- endmacro %}

{% macro default__double_type() -%}
    double precision
{%- endmacro %}

{% macro bigquery__double_type() -%}
    float64
{%- endmacro %}

{#- The non-null `parts` (a list of text expressions) joined by `separator` (a SQL string),
    '' when every part is null. Postgres and DuckDB's concat_ws skips nulls; Snowflake's
    returns null when any part is null, and BigQuery has none. -#}
{% macro concat_non_null(separator, parts) -%}
    {{ return(adapter.dispatch('concat_non_null', 'salesprep')(separator, parts)) }}
{%- endmacro %}

{% macro default__concat_non_null(separator, parts) -%}
    concat_ws(
        {{ separator }},
        {%- for part in parts %}
        {{ part }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro snowflake__concat_non_null(separator, parts) -%}
    array_to_string(array_construct_compact({{ parts | join(', ') }}), {{ separator }})
{%- endmacro %}

{% macro bigquery__concat_non_null(separator, parts) -%}
    array_to_string([{{ parts | join(', ') }}], {{ separator }})
{%- endmacro %}

{#- A FROM-clause join that gives each row one row per integer from `lo` to `hi` (inclusive,
    integer expressions that may name columns of the relations before it), under `alias`; its
    value is int_series_value(alias). -#}
{% macro int_series_join(lo, hi, alias) -%}
    {{ return(adapter.dispatch('int_series_join', 'salesprep')(lo, hi, alias)) }}
{%- endmacro %}

{% macro default__int_series_join(lo, hi, alias) -%}
    cross join generate_series({{ lo }}, {{ hi }}) as {{ alias }} (series_value)
{%- endmacro %}

{% macro snowflake__int_series_join(lo, hi, alias) -%}
    cross join lateral flatten(input => array_generate_range({{ lo }}, ({{ hi }}) + 1)) as {{ alias }}
{%- endmacro %}

{% macro bigquery__int_series_join(lo, hi, alias) -%}
    cross join unnest(generate_array({{ lo }}, {{ hi }})) as {{ alias }}
{%- endmacro %}

{% macro int_series_value(alias) -%}
    {{ return(adapter.dispatch('int_series_value', 'salesprep')(alias)) }}
{%- endmacro %}

{% macro default__int_series_value(alias) -%}
    {{ alias }}.series_value
{%- endmacro %}

{% macro snowflake__int_series_value(alias) -%}
    cast({{ alias }}.value as integer)
{%- endmacro %}

{% macro bigquery__int_series_value(alias) -%}
    {{ alias }}
{%- endmacro %}

{#- A FROM-clause join that gives each row one row per date from `first` to `last` (date
    expressions, inclusive) every `step_days` days, under `alias`; its value (a date) is
    date_series_value(alias, first). -#}
{% macro date_series_join(first, last, step_days, alias) -%}
    {{ return(adapter.dispatch('date_series_join', 'salesprep')(first, last, step_days, alias)) }}
{%- endmacro %}

{% macro default__date_series_join(first, last, step_days, alias) -%}
    cross join generate_series(
        cast({{ first }} as timestamp),
        cast({{ last }} as timestamp),
        interval '{{ step_days | int }} days'
    ) as {{ alias }} (series_at)
{%- endmacro %}

{% macro snowflake__date_series_join(first, last, step_days, alias) -%}
    cross join lateral flatten(
        input => array_generate_range(
            0, {{ dbt.datediff(first, last, 'day') }} + 1, {{ step_days | int }}
        )
    ) as {{ alias }}
{%- endmacro %}

{% macro bigquery__date_series_join(first, last, step_days, alias) -%}
    cross join unnest(
        generate_date_array(
            cast({{ first }} as date), cast({{ last }} as date), interval {{ step_days | int }} day
        )
    ) as {{ alias }}
{%- endmacro %}

{% macro date_series_value(alias, first) -%}
    {{ return(adapter.dispatch('date_series_value', 'salesprep')(alias, first)) }}
{%- endmacro %}

{% macro default__date_series_value(alias, first) -%}
    cast({{ alias }}.series_at as date)
{%- endmacro %}

{% macro snowflake__date_series_value(alias, first) -%}
    cast({{ dbt.dateadd('day', alias ~ '.value', first) }} as date)
{%- endmacro %}

{% macro bigquery__date_series_value(alias, first) -%}
    {{ alias }}
{%- endmacro %}
