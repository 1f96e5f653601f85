"""The dbt build of the warehouse, run in-process with dbtRunner: vars from the settings, dbt's
target and log dirs under the data dir, and a JSON summary of every node for the quality report."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from salesprep.config import Settings
from salesprep.weeks import Week

log = logging.getLogger(__name__)

PROJECT_DIR_ENV = "SALESPREP_DBT_PROJECT_DIR"
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
            "warehouse_path": str(self.warehouse_path) if self.warehouse_path else None,
            "results_path": str(self.results_path),
            "nodes": len(self.nodes),
            "statuses": self.status_counts(),
            "failures": [node.unique_id for node in self.failures],
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "results": [asdict(node) for node in self.nodes]}


def dbt_project_dir() -> Path:
    """The dbt project: $SALESPREP_DBT_PROJECT_DIR, else `dbt_project/` of the source tree."""
    configured = os.environ.get(PROJECT_DIR_ENV)
    project_dir = (
        Path(configured) if configured else Path(__file__).resolve().parents[3] / "dbt_project"
    )
    if not (project_dir / "dbt_project.yml").is_file():
        raise WarehouseBuildError(
            f"no dbt project at {project_dir} (no dbt_project.yml); set {PROJECT_DIR_ENV} to the "
            "salesprep dbt_project folder"
        )
    return project_dir


def dbt_vars(settings: Settings, week: Week) -> dict[str, Any]:
    """The dbt vars of a run: the contract of docs/data-contracts.md."""
    return {
        "raw_root": str(Path(settings.raw_root).resolve()),
        "learnings_path": _learnings_path(settings),
        "week": week.label,
        "org_timezone": settings.org_timezone,
        "fiscal_year_start_month": settings.fiscal_year_start_month,
        "quota_csv": str(Path(settings.quota_csv).resolve()) if settings.quota_csv else "",
        "extra_stages": list(settings.extra_stages),
        **settings.pairs.model_dump(),
        **settings.metrics.model_dump(),
    }


def _learnings_path(settings: Settings) -> str:
    """The learnings Parquet for var `learnings_path`, or '' (no learnings) when the
    load_learnings step has not written it, or on Postgres, which does not load it."""
    path = Path(settings.learnings_path)
    if settings.dbt_target != "duckdb" or not path.is_file():
        return ""
    return str(path.resolve())


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
    """`dbt build` (seeds, models, data and unit tests) for `week` into the build warehouse
    (`settings.build_warehouse_path` on DuckDB), never the published one. Writes the node
    results as JSON next to it and raises WarehouseBuildError naming every failing node.
    `select` is a dbt selection (e.g. "+path:models/marts/reps"); its tests are those whose
    parents are all selected."""
    target = settings.dbt_target
    if target not in ("duckdb", "postgres"):
        raise WarehouseBuildError(
            f"setting dbt_target={target!r} (SALESPREP_DBT_TARGET) is not a target of "
            "dbt_project/profiles.yml; use 'duckdb' or 'postgres'"
        )
    project_dir = dbt_project_dir()
    raw_root = Path(settings.raw_root)
    if not raw_root.is_dir():
        raise WarehouseBuildError(
            f"raw landing zone {raw_root} does not exist; extract the org for {week} first"
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

    env: dict[str, str] = {}
    warehouse_path: Path | None = None
    if target == "duckdb":
        warehouse_path = Path(settings.build_warehouse_path).resolve()
        warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        if full_refresh:
            _remove_duckdb_file(warehouse_path)
        env["SALESPREP_DBT_DUCKDB_PATH"] = str(warehouse_path)
    else:
        from salesprep.warehouse.postgres import RawLoadError, load_raw_postgres

        try:
            load_raw_postgres(raw_root, quota_csv=settings.quota_csv)
        except RawLoadError as exc:
            raise WarehouseBuildError(f"dbt build for {week} on postgres: {exc}") from exc

    args = [
        "build",
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
        json.dumps(dbt_vars(settings, week)),
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
    ]
    if select:
        # Only tests whose every parent is selected: a partial build must not run the tests
        # of marts it did not build.
        args += ["--select", select, "--indirect-selection", "cautious"]
    if full_refresh:
        args.append("--full-refresh")

    started = time.monotonic()
    with _DBT_LOCK, _environment(env):
        from dbt.cli.main import dbtRunner

        try:
            outcome = dbtRunner().invoke(args)
        finally:
            _release_duckdb()
    seconds = time.monotonic() - started

    nodes = _node_results(outcome.result)
    result = BuildResult(
        week=week.label,
        target=target,
        success=bool(outcome.success),
        seconds=seconds,
        warehouse_path=warehouse_path,
        results_path=results_path,
        nodes=nodes,
    )
    _write_json(results_path, result.to_dict())
    if outcome.exception is not None:
        raise WarehouseBuildError(
            f"dbt build for {week} ({target}) did not run: {outcome.exception}"
        ) from outcome.exception
    if not outcome.success or result.failures:
        raise WarehouseBuildError(_failure_message(result), result.failures)
    log.info(
        "dbt build for %s on %s: %d nodes in %.1fs (%s)",
        week,
        target,
        len(nodes),
        seconds,
        ", ".join(f"{n} {s}" for s, n in result.status_counts().items()),
    )
    return result


def _release_duckdb() -> None:
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


def _remove_duckdb_file(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.exists():
            candidate.unlink()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set env vars for profiles.yml during one dbt invocation, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
