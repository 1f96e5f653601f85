"""Near-physical limits. Of the transform: one hand-written DuckDB query that computes
`fct_rep_activity_weekly` straight from the raw Parquet, checked row for row against dbt's. Of
a Bulk backfill on the client: pyarrow's CSV reader parsing the very CSV bytes the Bulk API
2.0 serves for every object, with the catalog's column types, timed apart from downloading."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from salesprep.weeks import Week

_COLUMNS = (
    "rep_id, week, week_start, week_end, calls, emails, meetings, opportunities_created, "
    "pipeline_created, closed_won_count, closed_won_amount, closed_lost_count, "
    "pipeline_created_null_amounts"
)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def activity_weekly_sql(raw_root: Path, week: Week, org_timezone: str) -> str:
    """The hand-written query. Pairs follow dim_sales_pairs for an org without manager cycles
    or role/profile rules (the demo org): an active user with an active manager and no active
    reports of their own."""

    def raw(name: str) -> str:
        return f"read_parquet({_sql_string(str(Path(raw_root) / name / '*.parquet'))})"

    tz = _sql_string(org_timezone)
    last_start = _sql_string(week.start_date.isoformat())
    return f"""
with users as (
    select Id, ManagerId, coalesce(IsActive, false) as active from {raw("User")}
),
reports as (
    select ManagerId as id, count(*) as n from users where active and ManagerId is not null
    group by 1
),
reps as (
    select u.Id as rep_id
    from users u
    join users m on u.ManagerId = m.Id
    left join reports r on r.id = u.Id
    where u.active and m.active and coalesce(r.n, 0) = 0
),
tasks as (
    select OwnerId, ActivityDate, coalesce(nullif(TaskSubtype, ''), nullif(Type, '')) as kind,
        coalesce(IsClosed, false) as closed
    from {raw("Task")} where not coalesce(IsDeleted, false)
),
events as (
    select OwnerId, timezone({tz}, StartDateTime) as start_at
    from {raw("Event")} where not coalesce(IsDeleted, false)
),
opps as (
    select OwnerId, Amount, CloseDate, coalesce(IsClosed, false) as closed,
        coalesce(IsWon, false) as won, timezone({tz}, CreatedDate) as created_at
    from {raw("Opportunity")} where not coalesce(IsDeleted, false)
),
history as (
    select timezone({tz}, CreatedDate) as created_at
    from {raw("OpportunityHistory")} where not coalesce(IsDeleted, false)
),
data_dates as (
    select cast(created_at as date) as d from opps
    union all select cast(created_at as date) from history
    union all select ActivityDate from tasks
    union all select cast(start_at as date) from events
),
weeks as (
    select cast(s as date) as week_start, cast(s as date) + 7 as week_end,
        strftime(cast(s as date), '%G-W%V') as week
    from (
        select coalesce(cast(date_trunc('week', min(d)) as date), cast({last_start} as date)) as f
        from data_dates where d < cast({last_start} as date) + 7
    ) b, generate_series(cast(b.f as timestamp), cast({last_start} as timestamp),
        interval '7 days') as g(s)
),
t as (
    select OwnerId as id, cast(date_trunc('week', ActivityDate) as date) as ws,
        count(*) filter (where kind = 'Call') as calls,
        count(*) filter (where kind = 'Email') as emails
    from tasks where closed and ActivityDate is not null group by all
),
e as (
    select OwnerId as id, cast(date_trunc('week', start_at) as date) as ws, count(*) as meetings
    from events where start_at is not null group by all
),
c as (
    select OwnerId as id, cast(date_trunc('week', created_at) as date) as ws,
        count(*) as created, sum(coalesce(Amount, 0)) as pipeline,
        count(*) filter (where Amount is null) as null_amounts
    from opps group by all
),
w as (
    select OwnerId as id, cast(date_trunc('week', CloseDate) as date) as ws,
        count(*) filter (where won) as won_n,
        sum(case when won then coalesce(Amount, 0) else 0 end) as won_amount,
        count(*) filter (where closed and not won) as lost_n
    from opps where closed or won group by all
)
select
    reps.rep_id, weeks.week, weeks.week_start, weeks.week_end,
    cast(coalesce(t.calls, 0) as integer) as calls,
    cast(coalesce(t.emails, 0) as integer) as emails,
    cast(coalesce(e.meetings, 0) as integer) as meetings,
    cast(coalesce(c.created, 0) as integer) as opportunities_created,
    cast(coalesce(c.pipeline, 0) as double) as pipeline_created,
    cast(coalesce(w.won_n, 0) as integer) as closed_won_count,
    cast(coalesce(w.won_amount, 0) as double) as closed_won_amount,
    cast(coalesce(w.lost_n, 0) as integer) as closed_lost_count,
    cast(coalesce(c.null_amounts, 0) as integer) as pipeline_created_null_amounts
from reps cross join weeks
left join t on t.id = reps.rep_id and t.ws = weeks.week_start
left join e on e.id = reps.rep_id and e.ws = weeks.week_start
left join c on c.id = reps.rep_id and c.ws = weeks.week_start
left join w on w.id = reps.rep_id and w.ws = weeks.week_start
"""


def run_activity_weekly(
    raw_root: Path, week: Week, org_timezone: str, *, compare_with: Path | None = None
) -> dict[str, Any]:
    """Run the hand-written query into an in-memory table and time it; with `compare_with`
    (a DuckDB warehouse dbt built for the same week), count the rows that differ."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        sql = activity_weekly_sql(raw_root, week, org_timezone)
        started = time.perf_counter()
        con.execute(f"create table hand as {sql}")
        seconds = time.perf_counter() - started
        (rows,) = con.execute("select count(*) from hand").fetchone()
        result: dict[str, Any] = {"seconds": seconds, "rows": rows}
        if compare_with is not None:
            con.execute(f"attach {_sql_string(str(compare_with))} as dbt (read_only)")
            dbt_table = "dbt.main.fct_rep_activity_weekly"
            (only_hand,) = con.execute(
                f"select count(*) from (select {_COLUMNS} from hand "
                f"except all select {_COLUMNS} from {dbt_table})"
            ).fetchone()
            (only_dbt,) = con.execute(
                f"select count(*) from (select {_COLUMNS} from {dbt_table} "
                f"except all select {_COLUMNS} from hand)"
            ).fetchone()
            result.update(
                dbt_rows=con.execute(f"select count(*) from {dbt_table}").fetchone()[0],
                rows_only_in_hand=only_hand,
                rows_only_in_dbt=only_dbt,
                matches_dbt=only_hand == 0 and only_dbt == 0,
            )
        return result
    finally:
        con.close()


def pyarrow_csv_parse(
    base_url: str, username: str, password: str, token: str, work_dir: Path
) -> dict[str, Any]:
    """Download every object's Bulk API 2.0 `queryAll` results (the same SOQL and slices as
    salesprep's forced Bulk extraction) to files, untimed; then time pyarrow parsing each
    slice's bytes, read into memory first, with the options and column types salesprep's
    Bulk path gives it. Returns the parse's wall and CPU seconds (pyarrow's threads
    included), the rows and the CSV bytes."""
    import io

    import pyarrow.csv as pacsv

    from salesprep.config import SalesforceSettings
    from salesprep.salesforce.bulk import iter_bulk_slices
    from salesprep.salesforce.client import ApiClient
    from salesprep_bench.peers import _fields_by_object, _login, _soql

    sf = _login(base_url, username, password, token)
    client = ApiClient(sf, SalesforceSettings(bulk_poll_seconds=0.5))
    work_dir.mkdir(parents=True, exist_ok=True)
    slices: list[tuple[Path, dict[str, Any]]] = []
    for name, fields in _fields_by_object(sf).items():
        types = {f.name: f.arrow_type for f in fields}

        def keep(content: bytes, what: str, types=types) -> Any:
            path = work_dir / f"{len(slices):05d}.csv"
            path.write_bytes(content)
            slices.append((path, types))
            return _parse(io.BytesIO(content), types, pacsv)

        for _table in iter_bulk_slices(client, _soql(name, fields), what=name, parse=keep):
            pass
    wall = cpu = 0.0
    rows = size = 0
    for path, types in slices:
        content = path.read_bytes()
        path.unlink()
        size += len(content)
        started, cpu_started = time.perf_counter(), time.process_time()
        table = _parse(io.BytesIO(content), types, pacsv)
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        rows += table.num_rows
    return {
        "seconds": wall,
        "step_cpu_seconds": cpu,
        "rows": rows,
        "csv_bytes": size,
        "slices": len(slices),
    }


def _parse(source: Any, types: dict[str, Any], pacsv: Any) -> Any:
    return pacsv.read_csv(
        source,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            true_values=["true", "True", "TRUE"],
            false_values=["false", "False", "FALSE"],
            timestamp_parsers=[pacsv.ISO8601],
        ),
    )
