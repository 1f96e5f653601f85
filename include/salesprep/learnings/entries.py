"""The learnings file format: Markdown entries, each behind a YAML front-matter block.

A pair records what came out of its 1:1 in `<shared>/learnings/<YYYY-Www>/<manager>/<rep>.md`
(the week and slugs of the packet they discussed). A file holds one or more entries:

    ---
    kind: lesson              # lesson (what worked) or feedback (what the field is hearing)
    theme: implementation timeline
    tags: [healthcare, multi-threading]
    shareable: yes            # no: the entry never leaves this pair's own packet
    stage: Negotiation/Review # optional: the deal stage it applies to
    industry: Healthcare      # optional
    opportunity_id: 0065g00000AbCdEAAV   # optional
    ---
    Bring the services lead to the second call; the timeline worry disappears.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

KINDS = ("lesson", "feedback")

# The entry every packet offers to copy (docs/learnings.md shows the same); it parses as is.
TEMPLATE = """\
---
kind: lesson        # lesson (what worked) or feedback (what prospects are saying)
theme: implementation timeline
tags: [healthcare, multi-threading]
shareable: no       # yes: other teams' packets and the weekly digest may show it
stage: Negotiation/Review   # optional: the deal stage it applies to
industry: Healthcare        # optional
---
Bring the services lead to the second call; the timeline worry disappears.
"""
_ALLOWED_KEYS = {"kind", "theme", "tags", "shareable", "stage", "industry", "opportunity_id"}


class LearningsFormatError(ValueError):
    """A learnings file that does not follow the format; the message names the file and entry."""


@dataclass(frozen=True)
class Learning:
    """One recorded lesson or piece of field feedback."""

    learning_id: str
    week: str
    manager_slug: str
    rep_slug: str
    kind: str
    theme: str
    body: str
    shareable: bool
    tags: tuple[str, ...] = field(default_factory=tuple)
    stage: str | None = None
    industry: str | None = None
    opportunity_id: str | None = None
    source_path: str = ""

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["tags"] = ",".join(self.tags)
        return row


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "y"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("no", "false", "n"):
        return False
    raise LearningsFormatError(f"{where}: shareable must be yes or no, not {value!r}")


def _split_entries(text: str, where: str) -> list[tuple[str, str]]:
    """Pairs of (front matter, body) from a file made of `---` fenced blocks and bodies."""
    lines = text.replace("\r\n", "\n").split("\n")
    fences = [i for i, line in enumerate(lines) if line.strip() == "---"]
    if not fences or any(line.strip() for line in lines[: fences[0]]):
        raise LearningsFormatError(f"{where}: an entry must start with a '---' front-matter line")
    if len(fences) % 2:
        raise LearningsFormatError(f"{where}: a front-matter block is not closed with '---'")
    entries = []
    for n in range(0, len(fences), 2):
        start, stop = fences[n], fences[n + 1]
        body_end = fences[n + 2] if n + 2 < len(fences) else len(lines)
        front = "\n".join(lines[start + 1 : stop])
        body = "\n".join(lines[stop + 1 : body_end]).strip()
        entries.append((front, body))
    return entries


def parse_learnings(
    text: str, *, week: str, manager_slug: str, rep_slug: str, source: str
) -> list[Learning]:
    """Every entry of one learnings file, validated."""
    learnings = []
    for index, (front, body) in enumerate(_split_entries(text, source), start=1):
        where = f"{source} entry {index}"
        try:
            meta = yaml.safe_load(front) or {}
        except yaml.YAMLError as exc:
            raise LearningsFormatError(f"{where}: front matter is not valid YAML: {exc}") from exc
        if not isinstance(meta, dict):
            raise LearningsFormatError(f"{where}: front matter must be key: value lines")
        unknown = sorted(set(meta) - _ALLOWED_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_ALLOWED_KEYS))
            raise LearningsFormatError(
                f"{where}: unknown keys {', '.join(unknown)}; allowed: {allowed}"
            )
        kind = str(meta.get("kind", "lesson")).strip().lower()
        if kind not in KINDS:
            raise LearningsFormatError(f"{where}: kind must be lesson or feedback, not {kind!r}")
        theme = str(meta.get("theme") or "").strip()
        if not theme:
            raise LearningsFormatError(f"{where}: theme is required (e.g. theme: pricing)")
        if not body:
            raise LearningsFormatError(f"{where}: the entry has no text after its front matter")
        tags = meta.get("tags") or []
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",")]
        if not isinstance(tags, list):
            raise LearningsFormatError(f"{where}: tags must be a list like [pricing, healthcare]")
        digest = hashlib.sha256(f"{source}\n{index}\n{front}\n{body}".encode()).hexdigest()[:16]
        learnings.append(
            Learning(
                learning_id=digest,
                week=week,
                manager_slug=manager_slug,
                rep_slug=rep_slug,
                kind=kind,
                theme=theme.lower(),
                body=body,
                shareable=_as_bool(meta.get("shareable", False), where),
                tags=tuple(sorted({str(t).strip().lower() for t in tags if str(t).strip()})),
                stage=str(meta["stage"]).strip() if meta.get("stage") else None,
                industry=str(meta["industry"]).strip() if meta.get("industry") else None,
                opportunity_id=str(meta["opportunity_id"]).strip()
                if meta.get("opportunity_id")
                else None,
                source_path=source,
            )
        )
    return learnings
