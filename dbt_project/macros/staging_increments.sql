{#- Incremental staging of the activity objects (Task, Event; docs/decisions.md, "Staging under
    the increments is incremental"). Their landing zone grows with history and every weekly
    model reads them, so a weekly build converts only the rows that changed since the staged
    table was built, and every reader scans a table instead of the Parquet files:
    - changed rows: the source rows whose SystemModstamp (the extraction's cursor; every edit,
      soft delete and undelete moves it) is on or after the newest one staged minus
      staging_lookback_days() (7; rows can land with a stamp a little older than the newest seen:
      extraction windows start `lookback_minutes` before their watermark); they replace the
      staged row of the same Id (strategy delete+insert on the model's unique_key);
    - soft-deleted rows among them leave the table (pre-hook staging_drop_deleted);
    - rows the window missed (landed with an older stamp) and Ids the landing zone no longer
      holds (extraction removes the Ids Salesforce reports deleted): before the merge, the
      staged rows outside the window are compared with the live source rows stamped before
      it, by number and by a sum of Id hashes (staging_in_step); when they differ, the build
      also takes every live source row whose Id is not staged, and after the merge, when the
      table holds more rows than the source has live ones, the staged Ids the source no
      longer holds are deleted (post-hook staging_drop_vanished).
    A full build (first build, --full-refresh) converts every row as before. An edit that
    leaves SystemModstamp alone is not seen until a full refresh: nothing in the staged
    columns of Task and Event changes that way (IsArchived is staged but read by no model),
    and the extraction's incremental cursor would not see it either. -#}

{#- How far before the newest staged SystemModstamp a build re-reads the source. -#}
{% macro staging_lookback_days() -%}
    {{ return(7) }}
{%- endmacro %}

{#- The newest SystemModstamp staged, minus the lookback, as a SQL literal; none when the
    table is empty. Queried at run time only. -#}
{% macro staging_watermark() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query("select max(system_modstamp) from " ~ this) -%}
    {%- set newest = found.columns[0].values()[0] -%}
    {%- if newest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = newest - modules.datetime.timedelta(days=staging_lookback_days()) -%}
    {#- A string literal: the database casts it to the column's own type (with or without a
        time zone) when it compares. -#}
    {{ return("'" ~ since.isoformat(sep=' ') ~ "'") }}
{%- endmacro %}

{#- A 64-bit hash of an Id, summed into a fingerprint of a set of Ids. -#}
{% macro id_hash(column) -%}
    {{ return(adapter.dispatch('id_hash', 'salesprep')(column)) }}
{%- endmacro %}

{% macro default__id_hash(column) -%}
    hash({{ column }})
{%- endmacro %}

{% macro postgres__id_hash(column) -%}
    hashtextextended({{ column }}, 0)
{%- endmacro %}

{#- BigQuery: a 64-bit fingerprint, summed as bignumeric (an INT64 sum overflows). -#}
{% macro bigquery__id_hash(column) -%}
    cast(farm_fingerprint({{ column }}) as bignumeric)
{%- endmacro %}

{#- Whether the staged rows the window leaves alone are exactly the live source rows stamped
    before it: the same number and the same sum of Id hashes (narrow scans, no join over the
    history). They differ when a row landed with a stamp older than the window (it is missing)
    or an Id left the landing zone (it vanished); a build then also takes every live source
    row whose Id is not staged. -#}
{% macro staging_in_step(source_relation, id_column, since) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set sql -%}
        with changed as (
            select cast(Id as {{ text_type() }}) as changed_id from {{ source_relation }}
            where SystemModstamp >= {{ since }}
        ),
        landed as (
            select count(*) as n, coalesce(sum({{ id_hash('cast(Id as ' ~ text_type() ~ ')') }}), 0) as f
            from {{ source_relation }}
            where SystemModstamp < {{ since }} and coalesce(IsDeleted, false) = false
        ),
        staged as (
            select count(*) as n, coalesce(sum({{ id_hash(id_column) }}), 0) as f
            from {{ this }}
            where {{ id_column }} not in (select changed_id from changed)
        )
        select landed.n = staged.n and landed.f = staged.f
        from landed cross join staged
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0]) }}
{%- endmacro %}

{#- Whether the table holds more rows than the source has live rows (run after the merge, when
    every live source row is staged: then the numbers differ only by vanished Ids). -#}
{% macro staging_has_vanished(source_relation) -%}
    {%- set counts = run_query(
        "select (select count(*) from " ~ this ~ "), (select count(*) from " ~ source_relation
        ~ " where coalesce(IsDeleted, false) = false)"
    ) -%}
    {%- set row = counts.rows[0] -%}
    {{ return(row[0] != row[1]) }}
{%- endmacro %}

{#- The predicate on the source rows a build stages: every row in a full build; in an
    incremental one the rows changed since the watermark, plus every live row whose Id is not
    staged when the table and the source are out of step. -#}
{% macro staging_changed_rows(source_relation, id_column) -%}
    {%- if not is_incremental() -%}
        true
    {%- else -%}
        {%- set since = staging_watermark() -%}
        {%- if since is none -%}
            true
        {%- elif staging_in_step(source_relation, id_column, since) -%}
            SystemModstamp >= {{ since }}
        {%- else -%}
            (SystemModstamp >= {{ since }}
                or cast(Id as {{ text_type() }}) not in (select {{ id_column }} from {{ this }}))
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: the staged rows soft-deleted since the watermark leave the table. -#}
{% macro staging_drop_deleted(source_relation, id_column) -%}
    {%- if execute and is_incremental() -%}
        {%- set since = staging_watermark() -%}
        {%- if since is not none -%}
            delete from {{ this }}
            where {{ id_column }} in (
                select cast(Id as {{ text_type() }}) from {{ source_relation }}
                where coalesce(IsDeleted, false) and SystemModstamp >= {{ since }}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: when the table holds more rows than the source has live ones, the staged Ids
    the source no longer holds alive are deleted. -#}
{% macro staging_drop_vanished(source_relation, id_column) -%}
    {%- if execute and is_incremental() and staging_has_vanished(source_relation) -%}
        delete from {{ this }}
        where {{ id_column }} not in (
            select cast(Id as {{ text_type() }}) from {{ source_relation }}
            where coalesce(IsDeleted, false) = false
        )
    {%- endif -%}
{%- endmacro %}
