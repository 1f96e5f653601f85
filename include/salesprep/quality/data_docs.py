"""The week's Great Expectations Data Docs, made ready to publish beside the packets.

Each checkpoint stage (`raw`, `marts`, ...) writes `<quality dir>/<stage>/data_docs/`; this
copies its pages into the rendered week's `extra/quality/<stage>/` with a `quality/index.html`
listing the stages, so the `publish` step puts them in the shared folder in the week's atomic
swap. Fonts and animated help images are left out (5 MB a week; the pages do not need them),
and folder names the shared-folder layout does not allow (GX's `__none__` batch folder) are
renamed, links included.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
from pathlib import Path

from salesprep.quality.page_policy import NO_SCRIPT, meta_tag
from salesprep.quality.pair_coverage import UNPAIRED_FILE
from salesprep.runs.atomic_swap import replacing

log = logging.getLogger(__name__)

QUALITY_DIR = "quality"
INDEX = "index.html"
_KEEP = re.compile(r"(\.html$|^static/styles/.+\.css$|^static/images/favicon\.ico$)")
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class QualityDocsError(OSError):
    """The Data Docs cannot be staged; the message names the folder."""


def stage_quality_docs(quality_week_dir: Path, extra_dir: Path, week: str) -> list[str]:
    """Replace `extra_dir/quality/` with the Data Docs of every stage under
    `quality_week_dir` (one folder per stage); return the staged paths relative to
    `extra_dir`. A week without checkpoint results stages nothing."""
    quality_week_dir = Path(quality_week_dir)
    target = Path(extra_dir) / QUALITY_DIR
    stages = sorted(
        p.name
        for p in quality_week_dir.glob("*")
        if (p / "data_docs" / INDEX).is_file() and _SAFE_PART.match(p.name)
    )
    staged: list[str] = []
    try:
        if not stages:
            shutil.rmtree(target, ignore_errors=True)
        else:
            with replacing(target) as fresh:
                for stage in stages:
                    staged += _copy_stage(quality_week_dir / stage, fresh / stage, stage)
                (fresh / INDEX).write_text(
                    _index_page(week, quality_week_dir, stages), encoding="utf-8"
                )
                staged.append(INDEX)
    except OSError as exc:
        raise QualityDocsError(
            f"staging the Data Docs of {week} from {quality_week_dir} into {target} failed: {exc}"
        ) from exc
    log.info("staged the Data Docs of %d stage(s) for %s: %s", len(stages), week, stages)
    return [f"{QUALITY_DIR}/{path}" for path in staged]


def _copy_stage(source_stage: Path, dest: Path, stage: str) -> list[str]:
    docs = source_stage / "data_docs"
    renames: dict[str, str] = {}
    copied = []
    for path in sorted(p for p in docs.rglob("*") if p.is_file()):
        relative = path.relative_to(docs).as_posix()
        if not _KEEP.search(relative):
            continue
        parts = [_safe_part(part, renames) for part in relative.split("/")]
        out = dest.joinpath(*parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        copied.append(f"{stage}/{'/'.join(parts)}")
    # Pages link each other by relative path: rename the folders in the links too.
    for page in dest.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for old, new in renames.items():
            fixed = fixed.replace(f"/{old}/", f"/{new}/")
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
    return copied


def _safe_part(part: str, renames: dict[str, str]) -> str:
    if _SAFE_PART.match(part):
        return part
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", part).strip("._-") or "x"
    renames[part] = safe
    return safe


def _index_page(week: str, quality_week_dir: Path, stages: list[str]) -> str:
    rows = []
    for stage in stages:
        summary = _summary(quality_week_dir / stage)
        if summary is None:
            status = "results not recorded"
        else:
            failed = summary.get("failed", 0)
            status = f"{summary.get('checks', '?')} checks, {failed} failed" + (
                f" ({summary.get('blocking_failed')} blocking)"
                if summary.get("blocking_failed")
                else ""
            )
        rows.append(
            f'<li><a href="{html.escape(stage)}/index.html">{html.escape(stage)} checkpoint</a>'
            f": {html.escape(status)}</li>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{meta_tag(NO_SCRIPT)}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Data quality · {html.escape(week)}</title></head><body><main>"
        f"<h1>Data quality · {html.escape(week)}</h1>"
        "<p>Great Expectations Data Docs of the checkpoints that guarded this week's run.</p>"
        f"<ul>{''.join(rows)}</ul>"
        f"{_unpaired_section(quality_week_dir)}"
        '<p><a href="../index.html">Back to the packets</a></p>'
        "</main></body></html>\n"
    )


def _unpaired_section(quality_week_dir: Path) -> str:
    """Who got no packet and why (the marts checkpoint's list), escaped: names are CRM text."""
    path = quality_week_dir / "marts" / UNPAIRED_FILE
    try:
        users = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s for the quality index: %s", path, exc)
        users = []
    if not users:
        return ""
    items = "".join(
        f"<li>{html.escape(str(u.get('name')))} ({html.escape(str(u.get('user_id')))}) "
        f"{html.escape(str(u.get('why')))}</li>"
        for u in users
    )
    return (
        f'<h2 id="no-packet">{len(users)} user(s) got no packet</h2>'
        "<p>Their reporting line in Salesforce is broken; fix it there and the next run "
        f"includes them.</p><ul>{items}</ul>"
    )


def _summary(stage_dir: Path) -> dict | None:
    for candidate in sorted(stage_dir.glob("*.json")):
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "checks" in data:
            return data
    return None
