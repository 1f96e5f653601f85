{#- ISO week helpers shared by int_weeks_enumerated and the weekly marts. -#}

{#- The Monday (YYYY-MM-DD) that starts ISO week `label` (YYYY-Www), computed at compile time. -#}
{% macro week_start_date(label) -%}
    {%- set match = modules.re.match('^(\d{4})-W(\d{2})$', label | trim) -%}
    {%- if not match -%}
        {{ exceptions.raise_compiler_error("the run week " ~ label ~ " (SALESPREP_DBT_WEEK or var week) is not an ISO week like 2026-W47") }}
    {%- endif -%}
    {{ return(modules.datetime.date.fromisocalendar(match.group(1) | int, match.group(2) | int, 1).isoformat()) }}
{%- endmacro %}

{#- The ISO week label (YYYY-Www) of a date expression. -#}
{% macro iso_week_label(date_expr) -%}
    {{ return(adapter.dispatch('iso_week_label', 'salesprep')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_week_label(date_expr) -%}
    to_char({{ date_expr }}, 'IYYY-"W"IW')
{%- endmacro %}

{% macro duckdb__iso_week_label(date_expr) -%}
    strftime({{ date_expr }}, '%G-W%V')
{%- endmacro %}

{% macro snowflake__iso_week_label(date_expr) -%}
    (
        cast(yearofweekiso({{ date_expr }}) as {{ text_type() }})
        || '-W'
        || lpad(cast(weekiso({{ date_expr }}) as {{ text_type() }}), 2, '0')
    )
{%- endmacro %}

{% macro bigquery__iso_week_label(date_expr) -%}
    format_date('%G-W%V', cast({{ date_expr }} as date))
{%- endmacro %}

{#- The Monday of the ISO week that contains a date or naive timestamp expression, as a date. -#}
{% macro iso_week_start(date_expr) -%}
    {{ return(adapter.dispatch('iso_week_start', 'salesprep')(date_expr)) }}
{%- endmacro %}

{#- date_trunc('week') starts weeks on Monday on DuckDB, Postgres and Snowflake (its default
    WEEK_START 0); BigQuery's `week` starts on Sunday, its `isoweek` on Monday. -#}
{% macro default__iso_week_start(date_expr) -%}
    cast(date_trunc('week', {{ date_expr }}) as date)
{%- endmacro %}

{% macro bigquery__iso_week_start(date_expr) -%}
    date_trunc(cast({{ date_expr }} as date), isoweek)
{%- endmacro %}

{#- `date_expr` shifted by `days` (an integer expression), as a date. -#}
{% macro add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{#- `date_expr` shifted by `months` (an integer expression), as a date. -#}
{% macro add_months(date_expr, months) -%}
    cast({{ dbt.dateadd('month', months, date_expr) }} as date)
{%- endmacro %}

{#- Whole days from one date to another (dates, not timestamps). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'salesprep')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    (cast({{ end_date }} as date) - cast({{ start_date }} as date))
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{% macro snowflake__days_between(start_date, end_date) -%}
    {{ dbt.datediff('cast(' ~ start_date ~ ' as date)', 'cast(' ~ end_date ~ ' as date)', 'day') }}
{%- endmacro %}

{% macro bigquery__days_between(start_date, end_date) -%}
    date_diff(cast({{ end_date }} as date), cast({{ start_date }} as date), day)
{%- endmacro %}
