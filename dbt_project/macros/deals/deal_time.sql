{#- Time arithmetic for the deal-movement models that works on DuckDB and Postgres. -#}

{#- Whole days from one naive timestamp to a later one: floor of elapsed 24-hour periods, so a
    stage entered on Monday 15:00 is 6 whole days old at the next Monday 00:00
    (docs/metrics.md). -#}
{% macro deals_whole_days(earlier, later) -%}
    cast(floor(({{ deals_epoch(later) }} - {{ deals_epoch(earlier) }}) / 86400) as integer)
{%- endmacro %}

{#- Seconds since the epoch of a naive timestamp (both engines accept `extract(epoch ...)`). -#}
{% macro deals_epoch(ts) -%}
    extract(epoch from {{ ts }})
{%- endmacro %}

{#- A naive timestamp `days` (a literal integer, usually a var) earlier. -#}
{% macro deals_days_before(ts, days) -%}
    ({{ ts }} - interval '{{ days | int }} days')
{%- endmacro %}

{#- One output row per integer from lo to hi (inclusive), as a select-list expression: the
    per-row series avoids a range join of every state segment with every week. -#}
{% macro deals_int_series(lo, hi) -%}
    {{ return(adapter.dispatch('deals_int_series', 'salesprep')(lo, hi)) }}
{%- endmacro %}

{% macro default__deals_int_series(lo, hi) -%}
    generate_series({{ lo }}, {{ hi }})
{%- endmacro %}

{% macro duckdb__deals_int_series(lo, hi) -%}
    unnest(generate_series({{ lo }}, {{ hi }}))
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

{#- A var of the deal rules (salesprep.config.MetricRules), failing loudly when it is missing:
    dbt_project.yml declares the defaults and salesprep.warehouse passes the settings. -#}
{% macro deals_rule(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " is not set; it is a MetricRules field that dbt_project.yml declares") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
