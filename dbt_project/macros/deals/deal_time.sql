{#- Time arithmetic for the deal-movement models: DuckDB and Postgres (run in CI), Snowflake and
    BigQuery (compiled only; macros/cross_database.sql). -#}

{#- Whole days from one naive timestamp to a later one: floor of elapsed 24-hour periods, so a
    stage entered on Monday 15:00 is 6 whole days old at the next Monday 00:00
    (docs/metrics.md). -#}
{% macro deals_whole_days(earlier, later) -%}
    cast(floor(({{ deals_epoch(later) }} - {{ deals_epoch(earlier) }}) / 86400) as integer)
{%- endmacro %}

{#- Seconds since the epoch of a naive timestamp, with its fraction. -#}
{% macro deals_epoch(ts) -%}
    {{ return(adapter.dispatch('deals_epoch', 'salesprep')(ts)) }}
{%- endmacro %}

{#- DuckDB and Postgres accept `extract(epoch ...)`. -#}
{% macro default__deals_epoch(ts) -%}
    extract(epoch from {{ ts }})
{%- endmacro %}

{% macro snowflake__deals_epoch(ts) -%}
    (date_part(epoch_microsecond, {{ ts }}) / 1000000)
{%- endmacro %}

{% macro bigquery__deals_epoch(ts) -%}
    (unix_micros(timestamp({{ ts }})) / 1000000)
{%- endmacro %}

{#- A naive timestamp `days` (a literal integer, usually a var) earlier. -#}
{% macro deals_days_before(ts, days) -%}
    {{ return(adapter.dispatch('deals_days_before', 'salesprep')(ts, days)) }}
{%- endmacro %}

{% macro default__deals_days_before(ts, days) -%}
    ({{ ts }} - interval '{{ days | int }} days')
{%- endmacro %}

{% macro bigquery__deals_days_before(ts, days) -%}
    datetime_sub({{ ts }}, interval {{ days | int }} day)
{%- endmacro %}

{#- A naive timestamp one second earlier. -#}
{% macro deals_second_before(ts) -%}
    {{ return(adapter.dispatch('deals_second_before', 'salesprep')(ts)) }}
{%- endmacro %}

{% macro default__deals_second_before(ts) -%}
    {{ ts }} - interval '1 second'
{%- endmacro %}

{% macro bigquery__deals_second_before(ts) -%}
    datetime_sub({{ ts }}, interval 1 second)
{%- endmacro %}

{#- One output row per integer from lo to hi (inclusive), as a select-list expression: the
    per-row series avoids a range join of every state segment with every week. Snowflake and
    BigQuery have no set-returning select-list function: there the series is a lateral join
    (deals_int_series_join, after the FROM clause) and this is its value. -#}
{% macro deals_int_series(lo, hi) -%}
    {{ return(adapter.dispatch('deals_int_series', 'salesprep')(lo, hi)) }}
{%- endmacro %}

{% macro default__deals_int_series(lo, hi) -%}
    generate_series({{ lo }}, {{ hi }})
{%- endmacro %}

{% macro duckdb__deals_int_series(lo, hi) -%}
    unnest(generate_series({{ lo }}, {{ hi }}))
{%- endmacro %}

{% macro snowflake__deals_int_series(lo, hi) -%}
    {{ int_series_value('deals_series') }}
{%- endmacro %}

{% macro bigquery__deals_int_series(lo, hi) -%}
    {{ int_series_value('deals_series') }}
{%- endmacro %}

{#- The join deals_int_series needs where the series is not a select-list function. -#}
{% macro deals_int_series_join(lo, hi) -%}
    {{ return(adapter.dispatch('deals_int_series_join', 'salesprep')(lo, hi)) }}
{%- endmacro %}

{% macro default__deals_int_series_join(lo, hi) -%}
{%- endmacro %}

{% macro snowflake__deals_int_series_join(lo, hi) -%}
    {{ int_series_join(lo, hi, 'deals_series') }}
{%- endmacro %}

{% macro bigquery__deals_int_series_join(lo, hi) -%}
    {{ int_series_join(lo, hi, 'deals_series') }}
{%- endmacro %}

{#- A text value as a date when it starts with YYYY-MM-DD (field-history values are untyped
    anyType text), else null; never an error on a malformed value. -#}
{% macro deals_text_to_date(text) -%}
    {{ return(adapter.dispatch('deals_text_to_date', 'salesprep')(text)) }}
{%- endmacro %}

{% macro default__deals_text_to_date(text) -%}
    case
        when substr({{ text }}, 1, 10) ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
            then cast(substr({{ text }}, 1, 10) as date)
    end
{%- endmacro %}

{% macro duckdb__deals_text_to_date(text) -%}
    try_cast(substr({{ text }}, 1, 10) as date)
{%- endmacro %}

{#- try_cast on Snowflake, safe_cast on BigQuery. -#}
{% macro snowflake__deals_text_to_date(text) -%}
    {{ dbt.safe_cast('substr(' ~ text ~ ', 1, 10)', api.Column.translate_type('date')) }}
{%- endmacro %}

{% macro bigquery__deals_text_to_date(text) -%}
    {{ dbt.safe_cast('substr(' ~ text ~ ', 1, 10)', api.Column.translate_type('date')) }}
{%- endmacro %}

{#- A var of the deal rules (salesprep.config.MetricRules), failing loudly when it is missing:
    dbt_project.yml declares the defaults and salesprep.warehouse passes the settings. -#}
{% macro deals_rule(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " is not set; it is a MetricRules field that dbt_project.yml declares") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
