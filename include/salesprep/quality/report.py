"""The week's readable quality report: the dbt build (node results, source freshness, dbt docs)
as a quality stage beside the raw and marts checkpoints, and, for a run that stopped, one index
page over all of them published on its own.

A run that passes publishes every stage's pages with the packets: `write_build_report` puts the
dbt stage in `<data_dir>/quality/<week>/dbt/data_docs/` like a checkpoint's Data Docs, and the
render step stages every stage into the rendered week's `extra/quality/` (see
`salesprep.quality.data_docs`). A run that fails publishes `publish_failed_quality_report`
to `<shared>/_quality/<week>/`, so ops can read why nothing else was published.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from salesprep.config import Settings
from salesprep.quality.page_policy import NO_SCRIPT, with_policy
from salesprep.runs.atomic_swap import replacing, write_text_atomic
from salesprep.shared_folder import join
from salesprep.weeks import Week

log = logging.getLogger(__name__)

FAILED_RUNS_DIR = "_quality"
STAGES = (("raw", "Raw checkpoint (landing zone)"), ("marts", "Marts checkpoint (built warehouse)"))
DBT_STAGE = "dbt"
# Inside a stage folder, where the pages live (the layout the checkpoints' Data Docs use).
PAGES_DIR = "data_docs"
DBT_DOCS_DIR = "docs"
_FAILED = ("error", "fail", "runtime error")


class QualityReportError(RuntimeError):
    """The quality report could not be written or published; names the path."""


def quality_root(settings: Settings, week: Week) -> Path:
    """Where the steps of a run keep the week's quality outputs: `<data_dir>/quality/<week>`,
    one folder per stage (`raw`, `marts`, `dbt`)."""
    return Path(settings.data_dir) / "quality" / week.label


def build_results_path(settings: Settings, week: Week) -> Path:
    """The dbt node results build_warehouse writes for the week."""
    return Path(settings.data_dir) / "warehouse" / f"dbt_build_{week.label}.json"


def dbt_docs_dir(settings: Settings, week: Week) -> Path:
    """Where the week's dbt docs page goes, inside the dbt stage's pages."""
    return quality_root(settings, week) / DBT_STAGE / PAGES_DIR / DBT_DOCS_DIR


def write_build_report(week: Week, settings: Settings) -> Path:
    """The dbt stage of the week's quality report: `dbt/data_docs/index.html` (node results,
    failures, source freshness against the run week, a link to the dbt docs when
    `dbt_docs_dir` has them) and `dbt/dbt_checkpoint.json` (the summary the quality index
    lists). Returns the page. Without build results (dbt ran as per-model Cosmos tasks, which
    write none) the page says so and no summary is written."""
    stage_dir = quality_root(settings, week) / DBT_STAGE
    pages = stage_dir / PAGES_DIR
    pages.mkdir(parents=True, exist_ok=True)
    results_path = build_results_path(settings, week)
    build = _build_summary(results_path)
    docs = dbt_docs_dir(settings, week) / "index.html"
    page = (
        _environment()
        .get_template("dbt_build.html.j2")
        .render(
            week=week.label,
            failure=None,
            build=build,
            build_json=None,
            dbt_docs=f"{DBT_DOCS_DIR}/index.html" if docs.is_file() else None,
        )
    )
    _write_atomic(pages / "index.html", page)
    if build is None:
        log.warning(
            "no dbt build results for %s at %s: the dbt stage has no summary", week, results_path
        )
        return pages / "index.html"
    failed = len(build["failed_nodes"])
    summary = {
        "stage": DBT_STAGE,
        "success": build["success"],
        "checks": build["nodes"],
        "failed": failed,
        "blocking_failed": failed,
        "failures": [f"{n['unique_id']} [{n['status']}]" for n in build["failed_nodes"]],
    }
    _write_atomic(stage_dir / f"{DBT_STAGE}_checkpoint.json", json.dumps(summary, indent=2))
    return pages / "index.html"


def write_quality_report(
    week: Week,
    settings: Settings,
    out_dir: Path,
    *,
    failure: str | None = None,
    failed_step: str | None = None,
) -> Path:
    """Assemble the week's whole report in `out_dir`: `index.html` over the raw and marts
    checkpoints (their Data Docs under `raw/`, `marts/`) and the dbt build (`dbt/`,
    `dbt_build.json`), from whatever the run produced so far. Returns the index page."""
    out_dir = Path(out_dir)
    source = quality_root(settings, week)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = []
    for stage, title in STAGES:
        stage_dir = source / stage
        summary = _read_json(stage_dir / f"{stage}_checkpoint.json")
        docs = None
        if stage_dir.is_dir():
            _replace_tree(stage_dir, out_dir / stage)
            if (stage_dir / PAGES_DIR / "index.html").is_file():
                docs = f"{stage}/{PAGES_DIR}/index.html"
        stages.append({"title": title, "summary": summary, "docs": docs})
    results_path = build_results_path(settings, week)
    build = _build_summary(results_path)
    if build is not None:
        shutil.copyfile(results_path, out_dir / "dbt_build.json")
    dbt_docs = None
    if (source / DBT_STAGE).is_dir():
        _replace_tree(source / DBT_STAGE, out_dir / DBT_STAGE)
        if (dbt_docs_dir(settings, week) / "index.html").is_file():
            dbt_docs = f"{DBT_STAGE}/{PAGES_DIR}/{DBT_DOCS_DIR}/index.html"
    page = (
        _environment()
        .get_template("quality_index.html.j2")
        .render(
            week=week.label,
            failure=failure,
            failed_step=f"Failed step: {failed_step}." if failed_step else "",
            stages=stages,
            build=build,
            build_json="dbt_build.json" if build is not None else None,
            dbt_docs=dbt_docs,
        )
    )
    _write_atomic(out_dir / "index.html", page)
    return out_dir / "index.html"


def publish_failed_quality_report(
    week: Week, settings: Settings, error: BaseException | str, *, failed_step: str | None = None
) -> str:
    """For a run that stopped (nothing published): write the week's quality report, with the
    error, to `<shared folder>/_quality/<week>/` and return its index URL. The week's packets
    and the published warehouse are left as the previous run left them."""
    message = str(error)
    base = join(settings.shared_folder_url, FAILED_RUNS_DIR, week.label)
    with tempfile.TemporaryDirectory(prefix="salesprep-quality-") as tmp:
        write_quality_report(week, settings, Path(tmp), failure=message, failed_step=failed_step)
        try:
            fs, root = fsspec.core.url_to_fs(base)
            if isinstance(fs, LocalFileSystem):
                _swap_local(Path(tmp), Path(root))
            else:
                if fs.exists(root):
                    fs.rm(root, recursive=True)
                fs.put(f"{tmp}/", root, recursive=True)
        except (OSError, ValueError) as exc:
            raise QualityReportError(
                f"cannot publish the failed-run quality report of {week} to {base}: {exc}"
            ) from exc
    url = join(base, "index.html")
    log.warning("run for %s failed; quality report published to %s", week, url)
    return url


def _build_summary(results_path: Path) -> dict[str, Any] | None:
    payload = _read_json(results_path)
    if payload is None:
        return None
    results = payload.get("results", [])
    return {
        "success": bool(payload.get("success")),
        "target": payload.get("target"),
        "seconds": payload.get("seconds"),
        "nodes": payload.get("nodes", len(results)),
        "statuses": payload.get("statuses", {}),
        "failed_nodes": [r for r in results if r.get("status") in _FAILED],
        "sources": [r for r in results if r.get("resource_type") == "source"],
    }


def _write_atomic(path: Path, text: str) -> None:
    """Write one of salesprep's own quality pages (or their JSON) atomically; a page gets the
    no-script Content-Security-Policy."""
    if path.suffix == ".html":
        text = with_policy(text, NO_SCRIPT)
    write_text_atomic(path, text)


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise QualityReportError(f"cannot read {path} for the quality report: {exc}") from exc


def _replace_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def _swap_local(source: Path, target: Path) -> None:
    """Copy beside the target, then rename it in, so readers see the old or the new report."""
    with replacing(target) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("salesprep.quality", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
