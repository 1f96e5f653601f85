"""The week's readable quality report: one index page over the raw and marts checkpoints (with
their Data Docs), the dbt build results and source freshness, and the dbt docs.

A run that passes publishes it with the packets (`<rendered week>/extra/quality/`, swapped in
with the week); a run that fails publishes it alone to `<shared>/_quality/<week>/`, so ops can
read why nothing else was published.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from salesprep.config import Settings
from salesprep.weeks import Week

log = logging.getLogger(__name__)

REPORT_DIR = "quality"
FAILED_RUNS_DIR = "_quality"
STAGES = (("raw", "Raw checkpoint (landing zone)"), ("marts", "Marts checkpoint (built warehouse)"))
DBT_DOCS_DIR = "dbt_docs"


class QualityReportError(RuntimeError):
    """The quality report could not be written or published; names the path."""


def quality_root(settings: Settings, week: Week) -> Path:
    """Where the steps of a run keep the week's checkpoint outputs: `<data_dir>/quality/<week>`
    with one folder per stage (`raw`, `marts`) and the dbt docs (`dbt_docs`)."""
    return Path(settings.data_dir) / "quality" / week.label


def build_results_path(settings: Settings, week: Week) -> Path:
    """The dbt node results build_warehouse writes for the week."""
    return Path(settings.data_dir) / "warehouse" / f"dbt_build_{week.label}.json"


def write_quality_report(
    week: Week,
    settings: Settings,
    out_dir: Path,
    *,
    failure: str | None = None,
    failed_step: str | None = None,
) -> Path:
    """Assemble the week's report in `out_dir`: `index.html`, the stages' Data Docs and JSON
    (`raw/`, `marts/`), `dbt_build.json` and the dbt docs (`dbt_docs/index.html`), from
    whatever the run produced so far. Returns the index page."""
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
            if (stage_dir / "data_docs" / "index.html").is_file():
                docs = f"{stage}/data_docs/index.html"
        stages.append({"title": title, "summary": summary, "docs": docs})
    build = _build_summary(build_results_path(settings, week), out_dir)
    dbt_docs = None
    if (source / DBT_DOCS_DIR / "index.html").is_file():
        _replace_tree(source / DBT_DOCS_DIR, out_dir / DBT_DOCS_DIR)
        dbt_docs = f"{DBT_DOCS_DIR}/index.html"
    page = (
        _environment()
        .get_template("quality_index.html.j2")
        .render(
            week=week.label,
            failure=failure,
            failed_step=f"Failed step: {failed_step}." if failed_step else "",
            stages=stages,
            build=build,
            dbt_docs=dbt_docs,
        )
    )
    index = out_dir / "index.html"
    partial = out_dir / ".index.html.partial"
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, index)
    return index


def publish_failed_quality_report(
    week: Week, settings: Settings, error: BaseException | str, *, failed_step: str | None = None
) -> str:
    """For a run that stopped (nothing published): write the week's quality report, with the
    error, to `<shared folder>/_quality/<week>/` and return its index URL. The week's packets
    and the published warehouse are left as the previous run left them."""
    message = str(error)
    base = _join(settings.shared_folder_url, f"{FAILED_RUNS_DIR}/{week.label}")
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
    url = _join(base, "index.html")
    log.warning("run for %s failed; quality report published to %s", week, url)
    return url


def _build_summary(results_path: Path, out_dir: Path) -> dict[str, Any] | None:
    payload = _read_json(results_path)
    if payload is None:
        return None
    shutil.copyfile(results_path, out_dir / "dbt_build.json")
    results = payload.get("results", [])
    failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    return {
        "success": bool(payload.get("success")),
        "target": payload.get("target"),
        "seconds": payload.get("seconds"),
        "nodes": payload.get("nodes", len(results)),
        "statuses": payload.get("statuses", {}),
        "failed_nodes": failed,
        "sources": [r for r in results if r.get("resource_type") == "source"],
    }


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
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
    aside = target.with_name(f".{target.name}.{os.getpid()}.old")
    for leftover in (staging, aside):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(source, staging)
    if target.exists():
        os.replace(target, aside)
    os.replace(staging, target)
    if aside.exists():
        shutil.rmtree(aside)


def _join(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}"


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("salesprep.quality", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
