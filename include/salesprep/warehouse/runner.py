"""The dbt build of the warehouse, run in-process with dbtRunner: vars from the settings, dbt's
target and log dirs under the data dir, and a JSON summary of every node for the quality report."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from salesprep import progress
from salesprep.config import Settings, environment_overrides
from salesprep.dbt_project import DbtProjectMissingError, dbt_project_dir
from salesprep.runs.atomic_swap import write_text_atomic
from salesprep.salesforce.report import REPORT_FILE
from salesprep.storage import filesystem, pull
from salesprep.weeks import Week

log = logging.getLogger(__name__)

# dbt keeps global state (adapters, flags, the DuckDB handle): one invocation at a time.
_DBT_LOCK = threading.Lock()
_FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
_MAX_FAILURES_IN_MESSAGE = 10


class WarehouseBuildError(RuntimeError):
    """The dbt build failed; `failures` holds the failing nodes with dbt's messages."""

    def __init__(self, message: str, failures: list[NodeResult] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or []


@dataclass(frozen=True)
class NodeResult:
    """One dbt node of the build: a model, seed, data test or unit test."""

    unique_id: str
    resource_type: str
    status: str
    seconds: float
    failures: int | None = None
    message: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in _FAILED_STATUSES


@dataclass
class BuildResult:
    """What a dbt build did, node by node; `summary()` is the small dict a task passes on."""

    week: str
    target: str
    success: bool
    seconds: float
    warehouse_path: Path | None
    results_path: Path
    nodes: list[NodeResult] = field(default_factory=list)
    # "window": a weekly build, whose weekly models' tests checked the rebuilt weeks only;
    # "all": a full build (first, or --full-refresh), every test over whole tables.
    test_scope: str = "all"

    @property
    def failures(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.failed]

    def status_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(node.status for node in self.nodes).items()))

    def summary(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "target": self.target,
            "success": self.success,
            "seconds": round(self.seconds, 2),
            "test_scope": self.test_scope,
            "warehouse_path": str(self.warehouse_path) if self.warehouse_path else None,
            "results_path": str(self.results_path),
            "nodes": len(self.nodes),
            "statuses": self.status_counts(),
            "failures": [node.unique_id for node in self.failures],
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "results": [asdict(node) for node in self.nodes]}


def _project_dir(settings: Settings) -> Path:
    try:
        return dbt_project_dir(settings.dbt_project_dir)
    except DbtProjectMissingError as exc:
        raise WarehouseBuildError(str(exc)) from exc


# The environment the dbt project reads at run time (macros/run_week.sql, profiles.yml).
WEEK_ENV = "SALESPREP_DBT_WEEK"
TEST_SCOPE_ENV = "SALESPREP_DBT_TEST_SCOPE"
DUCKDB_MEMORY_LIMIT_ENV = "SALESPREP_DBT_DUCKDB_MEMORY_LIMIT"
DUCKDB_THREADS_ENV = "SALESPREP_DBT_DUCKDB_THREADS"
# A weekly mart every build writes: when it exists, a build without --full-refresh is weekly.
_WEEKLY_MART = "fct_rep_activity_weekly"


def dbt_vars(settings: Settings) -> dict[str, Any]:
    """The dbt vars of a run: the contract of docs/data-contracts.md. They stay the same from
    week to week (dbt re-parses the whole project when one changes): the run week travels in
    the environment instead (`dbt_env`)."""
    return {
        # A folder, or a URL under storage.url that DuckDB reads through fsspec
        # (warehouse.storage_plugin).
        "raw_root": settings.raw_url,
        "learnings_path": _loaded_path(settings, settings.learnings_path),
        "learnings_rejected_path": _loaded_path(settings, settings.learnings_rejected_path),
        "org_timezone": settings.org_timezone,
        "fiscal_year_start_month": settings.fiscal_year_start_month,
        "currency_code": settings.currency_code,
        "include_record_types": list(settings.record_types.include),
        "exclude_record_types": list(settings.record_types.exclude),
        "quota_csv": str(Path(settings.quota_csv).resolve()) if settings.quota_csv else "",
        "extra_stages": list(settings.extra_stages),
        **settings.pairs.model_dump(),
        **settings.metrics.model_dump(),
    }


def dbt_env(settings: Settings, week: Week, *, weekly: bool = False) -> dict[str, str]:
    """The environment of a dbt invocation for `week`: the run week (macro run_week reads it at
    run time, so a new week keeps dbt's partial parse), the data tests' scope (`weekly`: the
    tests of the weekly models check only the weeks the run rebuilt), and the target's
    connection: DuckDB's build file and bounds (settings.duckdb), or the Postgres settings."""
    env = {WEEK_ENV: week.label, TEST_SCOPE_ENV: "window" if weekly else "all"}
    if settings.dbt_target == "duckdb":
        env["SALESPREP_DBT_DUCKDB_PATH"] = str(Path(settings.build_warehouse_path).resolve())
        env[DUCKDB_MEMORY_LIMIT_ENV] = settings.duckdb.memory_limit
        env[DUCKDB_THREADS_ENV] = str(settings.duckdb.effective_threads())
    else:
        # profiles.yml reads the target from the environment: give dbt the settings' values,
        # and the build schema, which the checks and the render read before it is published
        # (BI reads `schema_name`).
        env.update(settings.postgres.dbt_env())
        env[settings.postgres.env_names()["schema_name"]] = settings.postgres.build_schema
    return env


def _storage_plugin(settings: Settings):
    """dbt-duckdb's plugin serving `settings`' storage (imports dbt's adapter: not at import)."""
    from salesprep.warehouse.storage_plugin import serving

    return serving(settings)


def _landed(settings: Settings) -> bool:
    """Whether the raw landing zone dbt reads exists."""
    if not settings.storage.enabled:
        return Path(settings.raw_root).is_dir()
    fs, root = filesystem(settings)
    try:
        return fs.exists(f"{root}/raw/{REPORT_FILE}")
    except OSError as exc:
        raise WarehouseBuildError(
            f"cannot read the landing zone {settings.raw_url}: {exc}"
        ) from exc


def _builds_weekly(settings: Settings, full_refresh: bool) -> bool:
    """Whether a build rebuilds only the window's weeks: not a full refresh, and the target
    already holds the weekly marts of an earlier build (else every model is built whole)."""
    if full_refresh:
        return False
    if settings.dbt_target == "duckdb":
        path = Path(settings.build_warehouse_path)
        if not path.is_file():
            return False
        import duckdb

        try:
            with duckdb.connect(str(path), read_only=True) as conn:
                found = conn.execute(
                    "select count(*) from information_schema.tables where table_name = ?",
                    [_WEEKLY_MART],
                ).fetchone()
        except duckdb.Error as exc:
            raise WarehouseBuildError(f"cannot read the build warehouse {path}: {exc}") from exc
        return bool(found and found[0])
    from salesprep.warehouse.postgres import RawLoadError, has_relation

    try:
        return has_relation(settings.postgres, _WEEKLY_MART, schema=settings.postgres.build_schema)
    except RawLoadError as exc:
        raise WarehouseBuildError(str(exc)) from exc


def _loaded_path(settings: Settings, path: Path) -> str:
    """A Parquet file of the load_learnings step for its dbt var, or '' (none) when the step has
    not written it. DuckDB reads the file in place; on Postgres the build copies it into
    `raw_learnings` first (`load_raw_postgres`), and the var only says that it is there."""
    path = Path(path)
    if not path.is_file():
        return ""
    return str(path.resolve())


def _loaded_learnings(settings: Settings) -> dict[str, Path]:
    """The learnings Parquet files the load_learnings step wrote, by their table of the
    `learnings` source (the ones dbt reads: `dbt_vars` names the same files)."""
    files = {"entries": settings.learnings_path, "rejected": settings.learnings_rejected_path}
    return {table: Path(path) for table, path in files.items() if _loaded_path(settings, path)}


def dbt_work_dir(settings: Settings) -> Path:
    """Where dbt writes its target/ and logs/: inside the data dir, never the source tree."""
    return Path(settings.data_dir) / "warehouse" / "dbt"


def build_warehouse(
    settings: Settings,
    week: Week,
    *,
    select: str | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """`dbt source freshness`, then `dbt build` (seeds, models, data and unit tests) for `week`,
    both on one `dbt parse` of the project (dbtRunner's `manifest=`), into the build warehouse
    (`settings.build_warehouse_path` on DuckDB), never the published one. Writes the node
    results (freshness included) as JSON next to it and raises WarehouseBuildError naming
    every failing node; a stale source stops the run before anything is built. `select` is a
    dbt selection (e.g. "+path:models/marts/reps"); its tests are those whose parents are all
    selected. dbt's unit tests run only with `settings.dbt_unit_tests`: they test the SQL, not
    the week's data (decision 15).

    The build file persists between runs: weekly models rebuild only the run's window of weeks
    (incremental). `full_refresh` rebuilds every model from scratch except the weekly
    opportunity snapshots, which keep what earlier runs saw (docs/decisions.md)."""
    target = settings.dbt_target
    if target not in ("duckdb", "postgres"):
        raise WarehouseBuildError(
            f"setting dbt_target={target!r} (SALESPREP_DBT_TARGET) is not a target of "
            "dbt_project/profiles.yml; use 'duckdb' or 'postgres'"
        )
    project_dir = _project_dir(settings)
    raw_root = Path(settings.raw_root)
    if settings.storage.enabled and target != "duckdb":
        # The Postgres load reads local files: the landing zone's copy on this worker.
        pull(settings, "raw", raw_root, marker=REPORT_FILE)
    if not _landed(settings):
        raise WarehouseBuildError(
            f"raw landing zone {settings.raw_url} does not exist; extract the org for {week} first"
        )
    for name, path in (("data_dir", settings.data_dir), ("quota_csv", settings.quota_csv)):
        # The paths are spliced into SQL string literals (read_parquet / read_csv).
        if path and "'" in str(Path(path).resolve()):
            raise WarehouseBuildError(
                f"setting {name}={path}: a path with a single quote cannot be read by dbt; "
                "move the data to a path without one"
            )
    if settings.quota_csv and not Path(settings.quota_csv).is_file():
        raise WarehouseBuildError(
            f"setting quota_csv={settings.quota_csv} (SALESPREP_QUOTA_CSV): no such file"
        )
    work_dir = dbt_work_dir(settings)
    work_dir.mkdir(parents=True, exist_ok=True)
    results_path = Path(settings.data_dir) / "warehouse" / f"dbt_build_{week.label}.json"

    warehouse_path: Path | None = None
    if target == "duckdb":
        warehouse_path = Path(settings.build_warehouse_path).resolve()
        warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    else:
        from salesprep.warehouse.postgres import RawLoadError, load_raw_postgres

        try:
            load_raw_postgres(
                raw_root,
                settings.postgres,
                quota_csv=settings.quota_csv,
                learnings=_loaded_learnings(settings),
            )
        except RawLoadError as exc:
            raise WarehouseBuildError(f"dbt build for {week} on postgres: {exc}") from exc
    weekly = _builds_weekly(settings, full_refresh)
    env = dbt_env(settings, week, weekly=weekly)

    common = _common_args(project_dir, target, work_dir, dbt_vars(settings))
    build_args = ["build", *common]
    if select:
        # Only tests whose every parent is selected: a partial build must not run the tests
        # of marts it did not build.
        build_args += ["--select", select, "--indirect-selection", "cautious"]
    if not settings.dbt_unit_tests:
        build_args += ["--exclude", "resource_type:unit_test"]
    if full_refresh:
        build_args.append("--full-refresh")

    started = time.monotonic()
    with _DBT_LOCK, environment_overrides(env), _storage_plugin(settings):
        from dbt.cli.main import dbtRunner

        nodes: list[NodeResult] = []
        fresh = False
        try:
            # One parse for both commands: given the parsed manifest, dbt does not load its
            # partial parse again. Only the build writes dbt's JSON (its compiled manifest and
            # run results); the parse's manifest.json, which the build's replaced, and the
            # freshness's sources.json (its results go into ours) are not written. The parse
            # still saves partial_parse.msgpack for the next run and the docs.
            step = "dbt parse"
            outcome = dbtRunner().invoke(["parse", *common, "--no-write-json"])
            if outcome.exception is None and outcome.success:
                manifest = outcome.result
                step = "dbt source freshness"
                with progress.task(f"dbt source freshness {week}", unit="sources") as bar:
                    outcome = dbtRunner(manifest=manifest, callbacks=[dbt_progress(bar)]).invoke(
                        ["source", "freshness", *common, "--no-write-json"]
                    )
                nodes = _freshness_results(outcome.result)
                fresh = outcome.exception is None and not any(n.failed for n in nodes)
            if fresh:
                step = "dbt build"
                with progress.task(f"dbt build {week}", unit="nodes") as bar:
                    outcome = dbtRunner(manifest=manifest, callbacks=[dbt_progress(bar)]).invoke(
                        build_args
                    )
                nodes += _node_results(outcome.result)
        finally:
            release_duckdb()
    seconds = time.monotonic() - started

    result = BuildResult(
        week=week.label,
        target=target,
        success=bool(outcome.success) and fresh,
        seconds=seconds,
        warehouse_path=warehouse_path,
        results_path=results_path,
        nodes=sorted(nodes, key=lambda node: node.unique_id),
        test_scope=env[TEST_SCOPE_ENV],
    )
    _write_json(results_path, result.to_dict())
    if outcome.exception is not None:
        raise WarehouseBuildError(
            f"{step} for {week} ({target}) did not run: {outcome.exception}"
        ) from outcome.exception
    if not result.success or result.failures:
        raise WarehouseBuildError(_failure_message(result), result.failures)
    log.info(
        "dbt build for %s on %s (%s): %d nodes in %.1fs (%s)",
        week,
        target,
        "weekly, tests on the rebuilt weeks" if weekly else "full, tests on whole tables",
        len(nodes),
        seconds,
        ", ".join(f"{n} {s}" for s, n in result.status_counts().items()),
    )
    return result


def dbt_progress(bar: progress.Task) -> Callable[[Any], None]:
    """A dbtRunner callback counting the nodes done out of the invocation's total on `bar`:
    dbt announces the total (`ConcurrencyLine.node_count`) before the first node, then fires
    `NodeFinished` from its worker threads as each node (model, test, seed, source) ends."""

    def on_event(event: Any) -> None:
        name = event.info.name
        if name == "ConcurrencyLine":
            bar.update(total=int(event.data.node_count))
        elif name == "NodeFinished":
            node = event.data.node_info
            bar.advance(state=f"{node.node_name} {node.node_status}".strip())

    return on_event


def generate_docs(settings: Settings, week: Week, out_dir: Path) -> Path:
    """`dbt docs generate --static` against the build warehouse of `week`: one self-contained
    `out_dir/index.html` (manifest and catalog inside) that opens from a shared folder without
    a server. Returns its path; raises WarehouseBuildError when dbt cannot document the build."""
    target = settings.dbt_target
    if target == "duckdb":
        warehouse_path = Path(settings.build_warehouse_path).resolve()
        if not warehouse_path.is_file():
            raise WarehouseBuildError(
                f"dbt docs for {week}: no built warehouse at {warehouse_path}; "
                "build the marts first"
            )
    work_dir = dbt_work_dir(settings)
    docs_target = work_dir / "docs"
    common = _common_args(_project_dir(settings), target, work_dir, dbt_vars(settings))
    # Its own target path, so the docs never overwrite the build's manifest and run results.
    common[common.index("--target-path") + 1] = str(docs_target)
    env = dbt_env(settings, week)
    parsed = work_dir / "target" / "partial_parse.msgpack"
    if parsed.is_file():
        # The build's parse, with the same vars and profile: dbt parses only what changed.
        docs_target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, docs_target / parsed.name)
    with _DBT_LOCK, environment_overrides(env), _storage_plugin(settings):
        from dbt.cli.main import dbtRunner

        try:
            # --no-write-json: not the compile's own manifest, run results and graph; the docs
            # still write the (same) manifest and the catalog the page is made of.
            outcome = dbtRunner().invoke(
                ["docs", "generate", "--static", *common, "--no-write-json"]
            )
        finally:
            release_duckdb()
    files = [docs_target / name for name in ("index.html", "manifest.json", "catalog.json")]
    if not outcome.success or not all(path.is_file() for path in files):
        raise WarehouseBuildError(
            f"dbt docs generate for {week} failed: "
            f"{outcome.exception or 'no index.html, manifest.json and catalog.json'}"
        )
    page = _stable_docs(
        *(path.read_text(encoding="utf-8") for path in files),
        week,
        _server_paths(settings, project=dbt_project_dir()),
    )
    out = Path(out_dir) / "index.html"
    write_text_atomic(out, page)
    log.info("dbt docs for %s written to %s", week, out)
    return out


_DOCS_RUN_STAMPS = frozenset(
    {"generated_at", "invocation_id", "invocation_started_at", "run_started_at"}
)
# Lists dbt fills from sets or graph walks: their order varies between runs, not their meaning.
_UNORDERED_LISTS = frozenset({"parent_map", "child_map", "group_map"})


def _server_paths(settings: Settings, *, project: Path) -> list[tuple[str, str]]:
    """(absolute path on this server, what the published docs say instead), longest first."""
    import sys

    pairs = [
        (str(Path(settings.data_dir).resolve()), "$SALESPREP_DATA_DIR"),
        (str(Path(project).resolve()), "dbt_project"),
        (str(Path(sys.prefix).resolve()), "$PYTHON_PREFIX"),
    ]
    if settings.storage.enabled:
        # The shared data's root reads the same as the data dir's: a week's pages do not
        # depend on where the data lives (packets on object storage equal one machine's).
        pairs.append((settings.storage.url, "$SALESPREP_DATA_DIR"))
    if settings.quota_csv:
        pairs.append((str(Path(settings.quota_csv).resolve()), "$SALESPREP_QUOTA_CSV"))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def _stable_docs(
    index: str, manifest: str, catalog: str, week: Week, server_paths: list[tuple[str, str]]
) -> str:
    """The static docs page built from dbt's docs template, manifest and catalog, so that a
    re-run of a week publishes the same bytes and no server path: dbt's run stamps (when and
    which invocation generated it, when each node was parsed) come from the week, absolute
    paths of this server are replaced by their setting's name, keys are sorted and the lists
    dbt fills in no fixed order are sorted."""
    values = {"invocation_id": f"salesprep-{week.label}"}
    stamp = f"{week.end_date.isoformat()}T00:00:00Z"

    def stable(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            if key in _UNORDERED_LISTS:
                return {k: sorted(stable(v)) for k, v in value.items()}
            return {k: stable(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [stable(v) for v in value]
        if key in _DOCS_RUN_STAMPS and isinstance(value, str):
            return values.get(key, stamp)
        if key == "created_at" and isinstance(value, int | float):
            return 0
        if isinstance(value, str):
            for path, name in server_paths:
                value = value.replace(path, name)
        return value

    def dump(text: str) -> str:
        return json.dumps(stable(json.loads(text)), sort_keys=True, ensure_ascii=False)

    page = index.replace('"MANIFEST.JSON INLINE DATA"', dump(manifest))
    page = page.replace('"CATALOG.JSON INLINE DATA"', dump(catalog))
    from salesprep.quality.page_policy import DBT_DOCS, with_policy

    return with_policy(page, DBT_DOCS)


def _common_args(
    project_dir: Path, target: str, work_dir: Path, variables: dict[str, Any]
) -> list[str]:
    return [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target",
        target,
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--vars",
        json.dumps(variables),
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
    ]


def _freshness_results(run_result: Any) -> list[NodeResult]:
    """Source freshness as nodes of the build results: the age is measured against the end of
    the run week (macro collect_freshness), never the wall clock."""
    if run_result is None or not hasattr(run_result, "results"):
        return []
    nodes = []
    for item in run_result.results:
        status = str(getattr(item.status, "value", item.status))
        age = getattr(item, "age", None)
        if age is not None:
            criteria = item.node.freshness
            limits = [
                f"{name} {rule.count} {getattr(rule.period, 'value', rule.period)}s"
                for name, rule in (
                    ("warn after", criteria.warn_after if criteria else None),
                    ("error after", criteria.error_after if criteria else None),
                )
                if rule is not None and rule.count is not None
            ]
            message = (
                f"newest {item.node.loaded_at_field} is {age / 86400:.1f} days before the run "
                f"week ends ({item.max_loaded_at.isoformat()}); {', '.join(limits)}"
            )
        else:
            message = getattr(item, "message", None)
        nodes.append(
            NodeResult(
                unique_id=item.node.unique_id,
                resource_type="source",
                status=status,
                seconds=round(float(getattr(item, "execution_time", 0.0) or 0.0), 3),
                failures=None,
                message=message,
            )
        )
    return nodes


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run: otherwise
    the build file stays locked (publish and readers fail with a configuration conflict) and
    the next build for another path would reuse a stale handle."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: a Postgres-only deployment
        return
    # dbt-duckdb has no public API for this; its class-level environment is the handle.
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
            DuckDBConnectionManager._ENV = None


def _node_results(run_result: Any) -> list[NodeResult]:
    if run_result is None or not hasattr(run_result, "results"):
        return []
    nodes = []
    for item in run_result.results:
        status = getattr(item.status, "value", item.status)
        nodes.append(
            NodeResult(
                unique_id=item.node.unique_id,
                resource_type=str(getattr(item.node.resource_type, "value", "")),
                status=str(status),
                seconds=round(float(item.execution_time or 0.0), 3),
                failures=item.failures,
                message=item.message,
            )
        )
    return sorted(nodes, key=lambda node: node.unique_id)


def _failure_message(result: BuildResult) -> str:
    failures = result.failures
    lines = [
        f"dbt build for {result.week} ({result.target}) failed: {len(failures)} node(s); "
        f"all results in {result.results_path}"
    ]
    for node in failures[:_MAX_FAILURES_IN_MESSAGE]:
        detail = (node.message or "").strip().splitlines()
        lines.append(f"- {node.unique_id} [{node.status}]: {' '.join(detail)[:500]}")
    if len(failures) > _MAX_FAILURES_IN_MESSAGE:
        lines.append(f"- ... and {len(failures) - _MAX_FAILURES_IN_MESSAGE} more")
    if not failures:
        lines.append("- no node failed; see the dbt log under the data dir's warehouse/dbt/logs")
    return "\n".join(lines)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)
