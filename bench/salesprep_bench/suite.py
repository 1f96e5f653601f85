"""The benchmark run: generate the org, serve it, run every step, peer and limit `runs` times
(each in its own process), the growth-with-history series, and the medians and ratios."""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep_bench.child import (
    BENCH_DIR,
    BenchStepError,
    ChildRun,
    bench_pythonpath,
    run_process,
    run_step,
)
from salesprep_bench.machine import describe_machine, meminfo
from salesprep_bench.peers import BULK2_WAIT as BULK2_PEER_WAIT
from salesprep_bench.report import PARSE_LIMIT, WEEKLY_STEPS
from salesprep_bench.server import REFRESH_TOKEN, ServerProcess, serving
from salesprep_bench.sizes import END_WEEK, Size

if TYPE_CHECKING:
    from salesprep.weeks import Week
    from salesprep_bench.next_week import NextWeek

log = logging.getLogger(__name__)

CONN_ID = "salesforce_default"
# The in-memory peers' peak per extracted record: 5.5 GiB for M's 2.76M records (2026-11-27),
# and at most this share of the available memory is risked on them.
IN_MEMORY_PEER_BYTES_PER_ROW = 2_100
IN_MEMORY_PEER_MEMORY_SHARE = 0.6
# What an option leaves out of a run, as the report says so.
_LEFT_OUT = (
    ("peers", "--no-peers", "the extraction peers"),
    ("singer_tap", "--no-tap", "the Singer tap-salesforce peer"),
    (
        "in_memory_peers",
        "--no-in-memory-peers",
        "simple-salesforce query_all and the Airflow hook (in-memory peers)",
    ),
    (
        "postgres",
        "--no-postgres",
        "the Postgres target (its raw load, its full build and its weekly run end to end)",
    ),
    ("growth", "--no-growth", "the weekly-cost-against-history series"),
)
# The e2e run: the pipeline's steps in order, each in its own process (as Airflow runs tasks).
E2E_STEPS = (
    "extract",
    "check_raw",
    "load_learnings",
    "build_marts",
    "render_packets",
    "publish",
)
# The steps of a real run of week W that the Postgres warehouse needs before its weekly run of
# W+1 (the landing zone, its checks and the learnings are the DuckDB run's: no target reads
# them differently): its first build, its checks, the packets and the views BI reads.
POSTGRES_PREPARE_STEPS = ("build_marts", "check_marts", "render_packets", "publish")
# The Postgres data directory starts as a copy of week W's without what the DuckDB target
# built and rendered there (the preparation builds and renders its own).
_DUCKDB_ONLY = ("warehouse", "rendered")
# What `--only` selects; the end-to-end run of the week always runs (the rest builds on it).
GROUPS = {
    "extract_methods": "extraction forced to REST and to Bulk, and pyarrow's parse of the "
    "same Bulk CSV",
    "peers": "the extraction peers",
    "transforms": "the hand-written limit, the weekly and lineage dbt builds, Postgres",
    "extract_incremental": "the next week's extraction of the unchanged org",
    "weekly_end_to_end": "the weekly run end to end for the next week, after a week of "
    "changes, on DuckDB and (unless --no-postgres) on Postgres",
}


@dataclass(frozen=True)
class Options:
    """What to run besides the pipeline itself; everything is on by default."""

    runs: int = 3
    peers: bool = True
    singer_tap: bool = True
    in_memory_peers: bool = True
    postgres: bool = True
    growth: bool = True
    keep_work: bool = False
    # The groups of GROUPS to run (besides the end-to-end run); None runs every one.
    only: frozenset[str] | None = None

    def runs_group(self, group: str) -> bool:
        return self.only is None or group in self.only


@dataclass
class Samples:
    """Every measured repetition of one named measurement."""

    runs: list[ChildRun] = field(default_factory=list)
    server: list[dict[str, Any]] = field(default_factory=list)

    def add(self, run: ChildRun, server: dict[str, Any] | None = None) -> None:
        self.runs.append(run)
        if server is not None:
            self.server.append(server)

    def median(self, value: Callable[[ChildRun], float | None]) -> float | None:
        values = [v for v in (value(r) for r in self.runs) if v is not None]
        return statistics.median(values) if values else None

    def summary(self) -> dict[str, Any]:
        last = self.runs[-1].result if self.runs else {}
        summary: dict[str, Any] = {
            "runs": len(self.runs),
            "wall_seconds": self.median(lambda r: r.wall_seconds),
            "inner_seconds": self.median(lambda r: r.inner_seconds),
            "cpu_seconds": self.median(lambda r: r.cpu_seconds),
            "peak_rss_bytes": max((r.peak_rss_bytes for r in self.runs), default=None),
            "wall_seconds_all": [round(r.wall_seconds, 3) for r in self.runs],
            "last_result": _small(last),
            "result_medians": _result_medians(self.runs),
        }
        if self.server:
            summary["server"] = {
                "api_calls": statistics.median(s["api_calls"] for s in self.server),
                "response_bytes": statistics.median(s["response_bytes"] for s in self.server),
                "bulk_jobs_created": statistics.median(s["bulk_jobs_created"] for s in self.server),
                "cpu_seconds": statistics.median(s.get("cpu_seconds", 0.0) for s in self.server),
                "requests": self.server[-1]["requests"],
            }
        return summary


def _result_medians(runs: list[ChildRun]) -> dict[str, float]:
    """Medians of the numbers every run's own result has (dbt seconds, packets/s, ...)."""
    if not runs:
        return {}
    keys = set.intersection(*(set(r.result) for r in runs))
    medians = {}
    for key in sorted(keys):
        values = [r.result[key] for r in runs]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            medians[key] = statistics.median(values)
    return medians


def _small(result: dict[str, Any]) -> dict[str, Any]:
    """The step's own result without bulky parts."""
    return {k: v for k, v in result.items() if k not in ("files_detail",)}


class Bench:
    """One benchmark run of one size in `work_dir` (created, and removed unless kept)."""

    def __init__(self, size: Size, work_dir: Path, options: Options) -> None:
        self.size = size
        self.work = work_dir
        self.options = options
        self.logs = work_dir / "logs"
        self.samples: dict[str, Samples] = {}
        self.notes: list[str] = []
        self.extra: dict[str, Any] = {}
        self.pg_database = f"salesprep_bench_{os.getpid()}"
        # The weekly run on Postgres has a database of its own, empty at each repetition.
        self.pg_weekly_database = f"{self.pg_database}_weekly"
        self.env = _child_env(work_dir, self.pg_database)
        self.week = END_WEEK

    # -------------------------------------------------------------------- plumbing

    def _sample(self, name: str) -> Samples:
        return self.samples.setdefault(name, Samples())

    def step(
        self,
        name: str,
        step: str,
        args: dict[str, Any],
        server: ServerProcess | None = None,
        *,
        optional: bool = False,
    ) -> ChildRun | None:
        """Run and record one measurement; an `optional` one that fails becomes a note (the
        pipeline's own steps must not fail: nothing after them could be measured)."""
        log.info("bench %s: %s ...", self.size.name, name)
        if server is not None:
            server.reset()
        try:
            run = run_step(name, step, args, env=self.env, work_dir=self.logs)
        except BenchStepError as exc:
            if not optional:
                raise
            self.note(f"{name} failed, not measured: {exc}")
            return None
        stats = server.stats() if server is not None else None
        self._sample(name).add(run, stats)
        log.info(
            "bench %s: %s %.2fs wall, %.2fs inner, peak RSS %.0f MiB",
            self.size.name,
            name,
            run.wall_seconds,
            run.inner_seconds,
            run.peak_rss_bytes / 2**20,
        )
        return run

    def note(self, text: str) -> None:
        log.warning("bench %s: %s", self.size.name, text)
        head = text[:1500]
        if head not in self.notes:
            self.notes.append(head)

    def settings(self, data_dir: Path, **extra: Any) -> dict[str, Any]:
        return {
            "data_dir": str(data_dir),
            "shared_folder": str(data_dir / "shared"),
            "org_timezone": "UTC",
            **extra,
        }

    # -------------------------------------------------------------------- the run

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        finally:
            if self.options.postgres:
                _drop_database(self.pg_database)
                _drop_database(self.pg_weekly_database)

    def _run(self) -> dict[str, Any]:
        started = time.perf_counter()
        for option, flag, what in _LEFT_OUT:
            if not getattr(self.options, option):
                self.note(f"{what} not run ({flag})")
        if self.options.only is not None:
            left_out = [what for group, what in GROUPS.items() if group not in self.options.only]
            if left_out:
                self.note(
                    f"--only {','.join(sorted(self.options.only))}: not run: " + "; ".join(left_out)
                )
        machine = describe_machine()
        org_dir = self.work / "org"
        for _ in range(self.options.runs):
            self.step("generate", "generate", self._generate_args(org_dir, self.size.weeks))
        with serving(
            org_dir, self.work / "emulator", env=self.env, log_path=self.logs / "emulator.log"
        ) as server:
            self.extra["emulator_load_seconds"] = server.load_seconds
            tap = self._prepare_tap(server) if self.options.peers else None
            for index in range(self.options.runs):
                log.info(
                    "bench %s: repetition %d of %d", self.size.name, index + 1, self.options.runs
                )
                self._repetition(server, tap)
            self.extra["emulator_peak_rss_bytes"] = server.peak_rss_bytes()
        if self.options.growth:
            self._growth()
        # Other work on the machine slows every measurement of this run alike.
        self.extra["load_average_at_end"] = list(os.getloadavg())
        return {
            "size": self.size.to_dict(),
            "machine": machine,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "total_seconds": time.perf_counter() - started,
            "options": self.options.__dict__,
            "measurements": {name: s.summary() for name, s in self.samples.items()},
            "extra": self.extra,
            "notes": self.notes,
        }

    def _generate_args(self, out_dir: Path, weeks: int, reps: int | None = None) -> dict[str, Any]:
        growth = reps is not None
        return {
            "out_dir": str(out_dir),
            "reps": reps if growth else self.size.reps,
            "managers": self.size.growth_managers if growth else self.size.managers,
            "weeks": weeks,
            "seed": self.size.seed,
            "end_week": self.week.label,
        }

    def _repetition(self, server: ServerProcess, tap: dict[str, Any] | None) -> None:
        data = self.work / "data"
        shutil.rmtree(data, ignore_errors=True)
        conn_env = _conn_env(server.base_url)
        base = {"week": self.week.label, "settings": self.settings(data)}
        # End to end: the weekly run's steps back to back, each in its own process. When only
        # extractions are selected, nothing reads the landing zone: only the extract runs.
        needs_data = any(
            self.options.runs_group(g)
            for g in ("transforms", "extract_incremental", "weekly_end_to_end")
        )
        e2e_started = time.perf_counter()
        e2e: list[ChildRun | None] = []
        for name in E2E_STEPS if needs_data else ("extract",):
            if name == "render_packets":
                e2e.append(self.step("render_packets", "render", base))
            else:
                args = {**base, "step": name}
                with _extended(self.env, conn_env if name == "extract" else {}):
                    e2e.append(
                        self.step(name, "pipeline", args, server if name == "extract" else None)
                    )
        wall = time.perf_counter() - e2e_started
        steps = [run for run in e2e if run is not None]
        if len(steps) == len(E2E_STEPS):
            self._record_end_to_end(wall, steps)
        if self.options.runs_group("weekly_end_to_end"):
            # The weekly run starts from this week's published state; copied before the
            # measurements below rebuild the warehouse.
            next_data = self.work / "data-next-week"
            shutil.rmtree(next_data, ignore_errors=True)
            shutil.copytree(data, next_data, symlinks=True)
            if self.options.postgres:
                pg_data = self.work / "data-next-week-postgres"
                shutil.rmtree(pg_data, ignore_errors=True)
                shutil.copytree(data, pg_data, symlinks=True, ignore=_top_level(data, _DUCKDB_ONLY))
        # Extraction, forcing each API path.
        # `bulk_fast_poll`: forced Bulk polling its jobs from 0.5 s, as the bulk2 peer does.
        methods = {
            "rest": {"query_method": "rest"},
            "bulk": {"query_method": "bulk"},
            "bulk_fast_poll": {"query_method": "bulk", "bulk_poll_seconds": BULK2_PEER_WAIT},
        }
        for method, chosen in methods.items() if self.options.runs_group("extract_methods") else ():
            other = self.work / f"data-{method}"
            shutil.rmtree(other, ignore_errors=True)
            settings = self.settings(other, salesforce={**chosen, "extract_mode": "full"})
            with _extended(self.env, conn_env):
                self.step(
                    f"extract_{method}",
                    "pipeline",
                    {"week": self.week.label, "settings": settings, "step": "extract"},
                    server,
                    optional=True,
                )
            shutil.rmtree(other, ignore_errors=True)
        if self.options.runs_group("extract_methods"):
            self._csv_parse_limit(server)
        if self.options.peers and self.options.runs_group("peers"):
            self._peers(server, tap)
        if self.options.runs_group("transforms"):
            self._transforms(data, base)
        # The next week's extraction of an unchanged org: incremental, from the saved watermarks.
        if self.options.runs_group("extract_incremental"):
            with _extended(self.env, conn_env):
                self.step(
                    "extract_incremental",
                    "pipeline",
                    {**base, "step": "extract"},
                    server,
                    optional=True,
                )
        if self.options.runs_group("weekly_end_to_end"):
            pg_data = self.work / "data-next-week-postgres" if self.options.postgres else None
            self._weekly_end_to_end(self.work / "data-next-week", pg_data)

    def _record_end_to_end(self, wall: float, steps: list[ChildRun]) -> None:
        self._sample("end_to_end").add(
            ChildRun(
                "end_to_end",
                wall,
                sum(run.cpu_seconds for run in steps),
                max(run.peak_rss_bytes for run in steps),
                {"seconds": sum(run.inner_seconds for run in steps)},
            )
        )

    def _transforms(self, data: Path, base: dict[str, Any]) -> None:
        """The hand-written limit, the lineage of the same mart, the weekly build, Postgres."""
        raw_root = data / "raw"
        build_path = data / "warehouse" / "build.duckdb"
        self.step(
            "hand_duckdb_activity_weekly",
            "hand_query",
            {
                "raw_root": str(raw_root),
                "week": self.week.label,
                "org_timezone": "UTC",
                "compare_with": str(build_path),
            },
            optional=True,
        )
        self._incremental(data)
        self.step(
            "dbt_build_activity_lineage",
            "build",
            {**base, "select": "+fct_rep_activity_weekly", "full_refresh": False},
            optional=True,
        )
        if self.options.postgres:
            pg = {**base, "settings": {**base["settings"], "dbt_target": "postgres"}}
            # The raw copy alone (binary COPY of Arrow batches), then the build that copies
            # again (truncate and refill) and runs dbt.
            self.step(
                "load_postgres", "load_postgres", {**pg, "raw_root": str(raw_root)}, optional=True
            )
            self.step("dbt_build_postgres", "build", {**pg, "full_refresh": True}, optional=True)

    def _weekly_end_to_end(self, data: Path, pg_data: Path | None) -> None:
        """Week W+1 after week W was run: the org gets one week of changes (stamped now, after
        week W's watermarks), a fresh emulator serves it, and every step of the DAG runs for
        W+1 in its own process on a copy of week W's data directory (landing zone,
        watermarks, warehouse, published packets). With `pg_data` (a copy of the same week W
        without the DuckDB warehouse), the same run follows on the Postgres target, on the
        same changed org, once its warehouse holds week W as a run leaves it."""
        from salesprep_bench.next_week import write_next_week_org

        next_org = self.work / "org-next-week"
        try:
            changes = write_next_week_org(self.work / "org", next_org, self.week)
            self.extra["next_week_changes"] = changes.to_dict()
            pg_settings = (
                self._prepare_postgres_week(data, pg_data) if pg_data is not None else None
            )
            with serving(
                next_org,
                self.work / "emulator-next-week",
                env=self.env,
                log_path=self.logs / "emulator-next-week.log",
            ) as server:
                self.extra["next_week_emulator_load_seconds"] = server.load_seconds
                runs = [("weekly_end_to_end", "weekly_", self.settings(data))]
                if pg_settings is not None:
                    runs.append(("weekly_end_to_end_postgres", "weekly_postgres_", pg_settings))
                done = self._weekly_runs(runs, server, changes)
                if pg_data is not None and len(done) == 2:
                    self._compare_packets(data, pg_data, self.week.shift(1))
        finally:
            for folder in (data, pg_data, next_org):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)

    def _prepare_postgres_week(self, duckdb_data: Path, data: Path) -> dict[str, Any] | None:
        """Week W on the Postgres target, as a real run leaves it: an empty database of its
        own, then build_marts, check_marts, render_packets and publish for W, each a recorded
        step of its own (`weekly_postgres_prepare_<step>`, not in the weekly total); their
        packets are compared with the DuckDB run's. Returns the settings of the weekly run, or
        None (with a note) when a step failed."""
        _drop_database(self.pg_weekly_database)
        settings = self.settings(
            data, dbt_target="postgres", postgres={"database": self.pg_weekly_database}
        )
        base = {"week": self.week.label, "settings": settings}
        for name in POSTGRES_PREPARE_STEPS:
            kind = "render" if name == "render_packets" else "pipeline"
            run = self.step(
                f"weekly_postgres_prepare_{name}", kind, {**base, "step": name}, optional=True
            )
            if run is None:
                self.note(
                    f"the Postgres warehouse could not be prepared for {self.week.label} "
                    f"({name} failed): the weekly run end to end on Postgres not run"
                )
                return None
        self._compare_packets(duckdb_data, data, self.week)
        return settings

    def _weekly_runs(
        self,
        runs: list[tuple[str, str, dict[str, Any]]],
        server: ServerProcess,
        changes: NextWeek,
    ) -> set[str]:
        """Every step of the DAG for W+1, each in its own process (`<prefix><step>`), for
        each of `runs` (measurement, step prefix, settings), and each run's total as its
        measurement: the wall times of its steps, summed. The runs' steps alternate (the
        first run's extract, the second's, then each one's check_raw, ...), so that on a
        shared machine both meet the same load; a run stops at its first failed step (with
        a note) and the others go on. Returns the measurements recorded."""
        base = {"week": self.week.shift(1).label}
        conn_env = _conn_env(server.base_url)
        steps: dict[str, list[ChildRun]] = {measurement: [] for measurement, _, _ in runs}
        failed: set[str] = set()
        for name in WEEKLY_STEPS:
            kind = "render" if name == "render_packets" else "pipeline"
            for measurement, prefix, settings in runs:
                if measurement in failed:
                    continue
                with _extended(self.env, conn_env):
                    run = self.step(
                        f"{prefix}{name}",
                        kind,
                        {**base, "settings": settings, "step": name},
                        server if name == "extract" else None,
                        optional=True,
                    )
                if run is None:  # the note says why; the steps after it would not run either
                    failed.add(measurement)
                else:
                    steps[measurement].append(run)
        for measurement in sorted(failed):
            self.note(f"{measurement} stopped at a failed step: total not recorded")
        for measurement, done in steps.items():
            if measurement in failed:
                continue
            self._sample(measurement).add(
                ChildRun(
                    measurement,
                    sum(run.wall_seconds for run in done),
                    sum(run.cpu_seconds for run in done),
                    max(run.peak_rss_bytes for run in done),
                    {
                        "seconds": sum(run.inner_seconds for run in done),
                        "steps": {run.name: round(run.wall_seconds, 3) for run in done},
                        "changed_rows": changes.changed_rows,
                    },
                )
            )
        return set(steps) - failed

    def _compare_packets(self, duckdb_data: Path, postgres_data: Path, week: Week) -> None:
        """The week's packets published by the Postgres run against the DuckDB run's: the
        result goes with the report, and a difference is a note (the timings of a run that
        published other packets would not be the same work)."""
        compared = compare_published_weeks(
            duckdb_data / "shared" / week.label, postgres_data / "shared" / week.label
        )
        self.extra.setdefault("postgres_packets_compared", []).append(compared)
        if not compared["same"]:
            self.note(
                f"the packets the Postgres run published for {week.label} differ from the "
                f"DuckDB run's: {describe_difference(compared)}"
            )

    def _incremental(self, data: Path) -> None:
        """The weekly build: a warehouse built through last week, then this week's build."""
        base = {"settings": self.settings(data)}
        previous = self.step(
            "dbt_build_full_previous_week",
            "build",
            {**base, "week": self.week.shift(-1).label, "full_refresh": True},
            optional=True,
        )
        if previous is not None:
            self.step("dbt_build_weekly", "build", {**base, "week": self.week.label}, optional=True)

    # -------------------------------------------------------------------- peers

    def _in_memory_peers_fit(self) -> bool:
        """Whether simple-salesforce's `query_all` and the hook's `make_query` (every record
        of an object held as Python dicts) fit in this machine's memory for this org; when
        they do not, the report says so instead of the machine swapping or killing a process."""
        generated = self.samples.get("generate")
        rows = generated.runs[-1].result.get("total_rows", 0) if generated else 0
        available = meminfo("MemAvailable") or 0
        needed = rows * IN_MEMORY_PEER_BYTES_PER_ROW
        if needed <= IN_MEMORY_PEER_MEMORY_SHARE * available:
            return True
        self.note(
            "simple-salesforce query_all and SalesforceHook.write_object_to_file not run: they "
            f"hold every record of an object in memory, about {IN_MEMORY_PEER_BYTES_PER_ROW:,} "
            f"bytes per record (measured at M), so {rows:,} records need about "
            f"{needed / 2**30:.0f} GiB, and this machine has {available / 2**30:.0f} GiB "
            "available"
        )
        return False

    def _peers(self, server: ServerProcess, tap: dict[str, Any] | None) -> None:
        self._streaming_peers(server)
        if self.options.in_memory_peers and self._in_memory_peers_fit():
            self._in_memory_peers(server)
        if tap is not None:
            self._run_tap(server, tap)

    def _csv_parse_limit(self, server: ServerProcess) -> None:
        """The client's physical limit for a Bulk backfill: pyarrow parsing the CSV bytes of
        every object's Bulk results, downloaded first (untimed, not counted on the server)."""
        from salesprep.emulator import Credentials

        creds = Credentials()
        out = self.work / "csv-parse"
        shutil.rmtree(out, ignore_errors=True)
        self.step(
            PARSE_LIMIT,
            "csv_parse_limit",
            {
                "base_url": server.base_url,
                "username": creds.username,
                "password": creds.password,
                "token": creds.security_token,
                "out_dir": str(out),
            },
            optional=True,
        )
        shutil.rmtree(out, ignore_errors=True)

    def _streaming_peers(self, server: ServerProcess) -> None:
        """simple-salesforce's Bulk 2.0 download and its `query_all_iter`: neither holds an
        object in memory, so they run at every size."""
        from salesprep.emulator import Credentials

        creds = Credentials()
        login = {
            "base_url": server.base_url,
            "username": creds.username,
            "password": creds.password,
            "token": creds.security_token,
        }
        out = self.work / "peer-out"
        for name, step in (
            ("peer_simple_salesforce_bulk2_download_csv_parquet", "peer_simple_salesforce_bulk2"),
            ("peer_simple_salesforce_query_all_iter_parquet", "peer_simple_salesforce_iter"),
        ):
            shutil.rmtree(out, ignore_errors=True)
            self.step(name, step, {**login, "out_dir": str(out / name)}, server, optional=True)
        shutil.rmtree(out, ignore_errors=True)

    def _in_memory_peers(self, server: ServerProcess) -> None:
        from salesprep.emulator import Credentials

        creds = Credentials()
        out = self.work / "peer-out"
        shutil.rmtree(out, ignore_errors=True)
        self.step(
            "peer_simple_salesforce_query_all_pandas_parquet",
            "peer_simple_salesforce",
            {
                "base_url": server.base_url,
                "username": creds.username,
                "password": creds.password,
                "token": creds.security_token,
                "out_dir": str(out / "sfdc"),
            },
            server,
            optional=True,
        )
        shutil.rmtree(out, ignore_errors=True)
        with _extended(self.env, _conn_env(server.base_url)):
            self.step(
                "peer_airflow_hook_write_object_to_file",
                "peer_airflow_hook",
                {"base_url": server.base_url, "out_dir": str(out / "hook"), "conn_id": CONN_ID},
                server,
                optional=True,
            )
        shutil.rmtree(out, ignore_errors=True)

    def _prepare_tap(self, server: ServerProcess) -> dict[str, Any] | None:
        from salesprep.emulator import Credentials
        from salesprep_bench import peers

        if not self.options.singer_tap:
            return None
        venv = BENCH_DIR / "work" / "peer-venvs" / "tap-salesforce"
        try:
            executable = peers.ensure_tap_venv(venv)
        except peers.PeerUnavailableError as exc:
            self.note(f"Singer tap-salesforce not run: {exc}")
            return None
        creds = Credentials()
        tap_dir = self.work / "tap"
        tap_dir.mkdir(parents=True, exist_ok=True)
        config = peers.tap_config(
            tap_dir / "config.json", creds.consumer_key, creds.consumer_secret, REFRESH_TOKEN
        )
        env = _tap_env(server.base_url)
        discovered = tap_dir / "discovered.json"
        try:
            wall, _, _ = run_process(
                "tap_discover",
                [str(executable), "--config", str(config), "--discover"],
                env=env,
                log_path=self.logs / "tap-discover.log",
                stdout_path=discovered,
            )
            selection = peers.select_catalog(discovered, tap_dir / "catalog.json")
        except (BenchStepError, ValueError, KeyError) as exc:
            self.note(f"Singer tap-salesforce discovery against the emulator failed: {exc}")
            return None
        self.extra["tap_discover_seconds"] = wall
        self.extra["tap_streams"] = selection["streams"]
        return {"executable": str(executable), "config": str(config), "env": env}

    def _run_tap(self, server: ServerProcess, tap: dict[str, Any]) -> None:
        from salesprep_bench.peers import count_tap_output

        out = self.work / "tap" / "records.jsonl"
        server.reset()
        try:
            wall, cpu, rss = run_process(
                "tap_sync",
                [
                    tap["executable"],
                    "--config",
                    tap["config"],
                    "--properties",
                    str(self.work / "tap" / "catalog.json"),
                ],
                env=tap["env"],
                log_path=self.logs / "tap-sync.log",
                stdout_path=out,
            )
        except BenchStepError as exc:
            self.note(f"Singer tap-salesforce sync failed: {exc}")
            return
        stats = server.stats()
        counts = count_tap_output(out)
        result = {
            "seconds": wall,
            "rows": sum(counts.values()),
            "rows_by_stream": counts,
            "files": out.stat().st_size,
        }
        out.unlink()
        self._sample("peer_singer_tap_salesforce_rest_jsonl").add(
            ChildRun("peer_singer_tap", wall, cpu, rss, result), stats
        )

    # -------------------------------------------------------------------- growth

    def _growth(self) -> None:
        """Weekly build cost against history length, at a fixed team size."""
        series = []
        for weeks in self.size.growth_weeks:
            try:
                series.append(self._growth_point(weeks))
            except BenchStepError as exc:
                self.note(f"growth series at {weeks} weeks failed, not measured: {exc}")
            finally:
                shutil.rmtree(self.work / f"growth-{weeks}w", ignore_errors=True)
        self.extra["growth"] = series

    def _growth_point(self, weeks: int) -> dict[str, Any]:
        """One history length: generate, extract, build through last week, then the weekly
        build `runs` times from that same warehouse."""
        root = self.work / f"growth-{weeks}w"
        org = root / "org"
        run_step(
            f"growth_generate_{weeks}",
            "generate",
            self._generate_args(org, weeks, reps=self.size.growth_reps),
            env=self.env,
            work_dir=self.logs,
        )
        data = root / "data"
        with (
            serving(
                org,
                root / "emulator",
                env=self.env,
                log_path=self.logs / f"emulator-{weeks}.log",
            ) as server,
            _extended(self.env, _conn_env(server.base_url)),
        ):
            extract = run_step(
                f"growth_extract_{weeks}",
                "pipeline",
                {
                    "week": self.week.label,
                    "settings": self.settings(data),
                    "step": "extract",
                },
                env=self.env,
                work_dir=self.logs,
            )
        base = {"settings": self.settings(data)}
        warehouse = data / "warehouse" / "build.duckdb"
        snapshot = root / "previous-week.duckdb"
        full = run_step(
            f"growth_full_{weeks}",
            "build",
            {**base, "week": self.week.shift(-1).label, "full_refresh": True},
            env=self.env,
            work_dir=self.logs,
        )
        shutil.copyfile(warehouse, snapshot)
        weekly = []
        for _ in range(self.options.runs):
            shutil.copyfile(snapshot, warehouse)
            weekly.append(
                run_step(
                    f"growth_weekly_{weeks}",
                    "build",
                    {**base, "week": self.week.label},
                    env=self.env,
                    work_dir=self.logs,
                )
            )
        point = {
            "history_weeks": weeks,
            "reps": self.size.growth_reps,
            "raw_rows": extract.result["summary"].get("rows"),
            "full_build_seconds": full.result["dbt_seconds"],
            "weekly_build_seconds": statistics.median(r.result["dbt_seconds"] for r in weekly),
            "weekly_build_seconds_all": [round(r.result["dbt_seconds"], 3) for r in weekly],
            "weekly_peak_rss_bytes": max(r.peak_rss_bytes for r in weekly),
            "incremental_models": weekly[-1].result.get("incremental_models", []),
        }
        log.info("bench %s: growth %s", self.size.name, point)
        return point


# ------------------------------------------------------------------------ environment


def _child_env(work: Path, pg_database: str) -> dict[str, str]:
    """The parent's environment without salesprep or Airflow connection settings (the
    benchmark passes its own), plus caches and homes under the work dir and the bench folder
    on PYTHONPATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SALESPREP_", "AIRFLOW_CONN_", "AIRFLOW__"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(work / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "MPLCONFIGDIR": str(work / "cache" / "matplotlib"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "False",
            "SALESPREP_DBT_POSTGRES_DATABASE": pg_database,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": bench_pythonpath(env),
        }
    )
    return env


def _conn_env(base_url: str) -> dict[str, str]:
    from salesprep.emulator import Credentials
    from salesprep.salesforce.connection import salesforce_conn_env

    return salesforce_conn_env(base_url, Credentials(), conn_id=CONN_ID)


def _tap_env(base_url: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["SALESPREP_BENCH_SF_URL"] = base_url
    return env


def _top_level(root: Path, names: tuple[str, ...]) -> Callable[[str, list[str]], list[str]]:
    """A `copytree` ignore leaving out `names` directly under `root` only."""

    def ignore(folder: str, entries: list[str]) -> list[str]:
        return [e for e in entries if e in names] if Path(folder) == root else []

    return ignore


# ------------------------------------------------------------------------ packets compared

# What a week of the shared folder holds that is not the packets: the week's quality report
# documents the build itself (dbt's docs name the engine's types, the results their timings),
# and the manifest's own timestamps; its `packets` entries are compared apart.
NOT_COMPARED = ("quality/", "manifest.json")


def compare_published_weeks(duckdb_week: Path, postgres_week: Path) -> dict[str, Any]:
    """The files of two published weeks, byte for byte, as tests/e2e/test_postgres_run.py
    compares them: the same names, the same bytes (but `NOT_COMPARED`), the manifests' same
    `packets` entries."""

    def files(week: Path) -> dict[str, Path]:
        if not week.is_dir():
            return {}
        return {p.relative_to(week).as_posix(): p for p in week.rglob("*") if p.is_file()}

    on_duckdb, on_postgres = files(duckdb_week), files(postgres_week)
    packets_duckdb = {name for name in on_duckdb if not name.startswith(NOT_COMPARED)}
    packets_postgres = {name for name in on_postgres if not name.startswith(NOT_COMPARED)}
    compared = sorted(packets_duckdb & packets_postgres)
    different = [n for n in compared if on_duckdb[n].read_bytes() != on_postgres[n].read_bytes()]
    manifests = [
        json.loads(side["manifest.json"].read_text(encoding="utf-8")).get("packets")
        if "manifest.json" in side
        else None
        for side in (on_duckdb, on_postgres)
    ]
    only_duckdb = sorted(packets_duckdb - packets_postgres)
    only_postgres = sorted(packets_postgres - packets_duckdb)
    manifest_same = manifests[0] is not None and manifests[0] == manifests[1]
    return {
        "week": duckdb_week.name,
        "files_compared": len(compared),
        "packets": len(manifests[0] or []),
        "same": bool(compared)
        and not (different or only_duckdb or only_postgres)
        and manifest_same,
        "different": different,
        "only_duckdb": only_duckdb,
        "only_postgres": only_postgres,
        "manifest_packets_same": manifest_same,
    }


def describe_difference(compared: dict[str, Any], most: int = 5) -> str:
    """One line: which files differ or are missing on one side."""
    parts = []
    for key, what in (
        ("different", "files with other bytes"),
        ("only_duckdb", "files only the DuckDB run published"),
        ("only_postgres", "files only the Postgres run published"),
    ):
        names = compared[key]
        if names:
            shown = ", ".join(names[:most]) + (
                f" and {len(names) - most} more" if len(names) > most else ""
            )
            parts.append(f"{len(names)} {what} ({shown})")
    if not compared["manifest_packets_same"]:
        parts.append("the manifests list other packets")
    if not compared["files_compared"]:
        parts.append("no files to compare")
    return "; ".join(parts)


class _extended:
    """Add variables to a dict for the duration of a block."""

    def __init__(self, env: dict[str, str], extra: dict[str, str]) -> None:
        self.env = env
        self.extra = extra
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        self.saved = {k: self.env.get(k) for k in self.extra}
        self.env.update(self.extra)

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value


def _drop_database(name: str) -> None:
    try:
        import psycopg
        from psycopg import sql

        from salesprep.config import load_settings
        from salesprep.warehouse.postgres import conninfo

        target = load_settings().postgres
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
    except Exception as exc:  # cleanup only: never hide the results for it
        print(f"warning: could not drop benchmark database {name}: {exc}", file=sys.stderr)
