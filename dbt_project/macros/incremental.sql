{#- The weekly build window of an incremental run (docs/decisions.md, "Incremental weekly
    marts"): the weeks from the run week (macro run_week) minus var `incremental_lookback_weeks`
    to the run week.
    Weekly models rebuild only these weeks; rows of every other week stay as earlier runs
    wrote them. The lookback re-reads late-arriving data (a call logged a week late) and is at
    least underperformance_window_weeks - 1, so a rebuilt week's 4-week windows are complete. -#}

{#- The label (YYYY-Www) of the first week the window rebuilds. -#}
{% macro window_first_week() -%}
    {%- set lookback = var('incremental_lookback_weeks') | int -%}
    {%- set minimum = [var('underperformance_window_weeks') | int - 1, 4] | max -%}
    {%- if lookback < minimum -%}
        {{ exceptions.raise_compiler_error(
            "var incremental_lookback_weeks=" ~ lookback ~ " must be at least " ~ minimum
            ~ ": the 4-week windows (avg_4w, pacing) of a rebuilt week read the weeks before it"
        ) }}
    {%- endif -%}
    {%- set last_start = modules.datetime.date.fromisoformat(week_start_date(run_week())) -%}
    {%- set first_start = last_start - modules.datetime.timedelta(days=7 * lookback) -%}
    {%- set iso = first_start.isocalendar() -%}
    {{ return('%04d-W%02d' % (iso[0], iso[1])) }}
{%- endmacro %}

{#- The Monday (YYYY-MM-DD) that starts the first week of the window. -#}
{% macro window_first_week_start() -%}
    {{ return(week_start_date(window_first_week())) }}
{%- endmacro %}

{#- True when the calling model is built incrementally: its table exists, it is incremental,
    and the run is no --full-refresh. Unit tests (no `this`) build every week they are given. -#}
{% macro building_window() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- A predicate on a week label column: the window's weeks in an incremental run, every week
    in a full build (first run, or --full-refresh). ISO labels sort like the weeks they name. -#}
{% macro in_build_window(week_column) -%}
    {%- if building_window() -%}
        {{ week_column }} >= '{{ window_first_week() }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- A predicate on a date column: dated on or after the window's first Monday in an incremental
    run, always true in a full build. Prunes the source rows an incremental run aggregates. -#}
{% macro on_or_after_window_start(date_column, weeks_before=0) -%}
    {%- if building_window() -%}
        {%- set first = modules.datetime.date.fromisoformat(window_first_week_start())
            - modules.datetime.timedelta(days=7 * (weeks_before | int)) -%}
        {{ date_column }} >= cast('{{ first.isoformat() }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Incremental strategy `replace_weeks`: delete the window's weeks (all of them, also those the
    new batch has no row for, so a fact that disappeared does not linger), then insert the
    batch. Weeks after the run week survive, so backfilling an old week keeps the newer ones.
    Every model using it has a `week` label column and only selects weeks of the window. -#}
{% macro get_incremental_replace_weeks_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where week >= '{{ window_first_week() }}'
        and week <= '{{ run_week() }}';

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where week >= '{{ window_first_week() }}'
        and week <= '{{ run_week() }}'
{%- endmacro %}
