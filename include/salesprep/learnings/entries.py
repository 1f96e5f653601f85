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

    ---
    kind: action              # an agreed action, followed up in the next packets
    id: cfo-call              # short, unique within the pair
    owner: rep                # rep or manager
    due: 2026-05-22
    opportunity_id: 0065g00000AbCdEAAV   # optional: the CRM shows what happened on the deal
    ---
    Book the call with the CFO before the pricing review.

A later week's file marks it done with `kind: action`, the same `id` and `status: done`.

Each entry is checked on its own: a bad one is rejected with one message (file, entry, key, the
fix) and the good entries of the same file are kept.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import yaml

KINDS = ("lesson", "feedback", "action")
OWNERS = ("rep", "manager")

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
_LEARNING_KEYS = frozenset(
    {"kind", "theme", "tags", "shareable", "stage", "industry", "opportunity_id"}
)
_ACTION_KEYS = frozenset({"kind", "id", "owner", "due", "opportunity_id", "shareable", "status"})
_ACTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_OPPORTUNITY_ID = re.compile(r"^[A-Za-z0-9]{18}$")


class LearningsFormatError(ValueError):
    """A learnings file that does not follow the format; the message names the file and entry."""


@dataclass(frozen=True)
class EntryProblem:
    """Why one entry (or, with `entry` None, a whole file) was rejected, and how to fix it."""

    source: str
    entry: int | None
    key: str | None
    problem: str
    fix: str

    @property
    def message(self) -> str:
        where = self.source if self.entry is None else f"{self.source} entry {self.entry}"
        key = f" ({self.key})" if self.key else ""
        return f"{where}{key}: {self.problem}; fix: {self.fix}"


class _Rejected(Exception):
    def __init__(self, key: str | None, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.key, self.problem, self.fix = key, problem, fix


@dataclass(frozen=True)
class Learning:
    """One recorded entry: a lesson, a piece of field feedback, or an agreed action."""

    learning_id: str
    week: str
    manager_slug: str
    rep_slug: str
    kind: str
    theme: str | None
    body: str
    shareable: bool
    tags: tuple[str, ...] = field(default_factory=tuple)
    stage: str | None = None
    industry: str | None = None
    opportunity_id: str | None = None
    source_path: str = ""
    entry_number: int = 0
    # kind: action only. `status` is "open" for an action recorded, "done" for the marker.
    action_id: str | None = None
    owner: str | None = None
    due_date: date | None = None
    status: str | None = None

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["tags"] = ",".join(self.tags)
        return row


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "y"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("no", "false", "n"):
        return False
    raise _Rejected("shareable", f"must be yes or no, not {value!r}", "write shareable: yes or no")


def _split_entries(text: str, source: str) -> tuple[list[tuple[str, str]], list[EntryProblem]]:
    """(front matter, body) of each `---` fenced block, and what could not be split."""
    lines = text.replace("\r\n", "\n").split("\n")
    fences = [i for i, line in enumerate(lines) if line.strip() == "---"]
    problems = []
    if not fences:
        fix = "put each entry's keys between two '---' lines, its text below them"
        problems.append(
            EntryProblem(source, None, None, "no entry: an entry starts with a '---' line", fix)
        )
        return [], problems
    if any(line.strip() for line in lines[: fences[0]]):
        problems.append(
            EntryProblem(
                source,
                None,
                None,
                "text before the first '---' line belongs to no entry",
                "start the file with a '---' line, or delete that text",
            )
        )
    entries = []
    for n in range(0, len(fences) - 1, 2):
        start, stop = fences[n], fences[n + 1]
        body_end = fences[n + 2] if n + 2 < len(fences) else len(lines)
        front = "\n".join(lines[start + 1 : stop])
        body = "\n".join(lines[stop + 1 : body_end]).strip()
        entries.append((front, body))
    if len(fences) % 2:
        problems.append(
            EntryProblem(
                source,
                len(entries) + 1,
                None,
                "the front matter is not closed with '---'",
                "add a '---' line after the entry's keys",
            )
        )
    return entries, problems


def _check_keys(meta: dict, allowed: frozenset[str], kind: str) -> None:
    unknown = sorted(str(key) for key in set(meta) - allowed)
    if unknown:
        raise _Rejected(
            unknown[0],
            f"unknown key for kind {kind}",
            f"remove it; allowed keys: {', '.join(sorted(allowed))}",
        )


def _text(meta: dict, key: str) -> str | None:
    value = meta.get(key)
    return str(value).strip() or None if value is not None else None


def _learning_fields(meta: dict, body: str, kind: str) -> dict[str, Any]:
    _check_keys(meta, _LEARNING_KEYS, kind)
    theme = _text(meta, "theme")
    if not theme:
        raise _Rejected("theme", "is required", "add a few words, e.g. theme: pricing")
    if not body:
        raise _Rejected(None, "the entry has no text", "write the lesson below its front matter")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list):
        raise _Rejected("tags", "must be a list", "write tags: [pricing, healthcare]")
    return {
        "theme": theme.lower(),
        "tags": tuple(sorted({str(t).strip().lower() for t in tags if str(t).strip()})),
        "stage": _text(meta, "stage"),
        "industry": _text(meta, "industry"),
        "opportunity_id": _text(meta, "opportunity_id"),
    }


def _action_fields(meta: dict, body: str) -> dict[str, Any]:
    _check_keys(meta, _ACTION_KEYS, "action")
    action_id = _text(meta, "id")
    if not action_id or not _ACTION_ID.match(action_id):
        raise _Rejected(
            "id",
            f"must be a short name of letters, digits, - or _, not {meta.get('id')!r}",
            "write e.g. id: cfo-call (unique within the pair)",
        )
    status = _text(meta, "status")
    if status is not None and status.lower() != "done":
        raise _Rejected(
            "status", f"must be done, not {status!r}", "write status: done, or leave it out"
        )
    if status is not None:  # a marker: the action of that id, recorded earlier, is done
        return {"action_id": action_id, "status": "done"}
    owner = (_text(meta, "owner") or "").lower()
    if owner not in OWNERS:
        raise _Rejected(
            "owner",
            f"must be rep or manager, not {meta.get('owner')!r}",
            "write owner: rep or owner: manager",
        )
    due = meta.get("due")
    if isinstance(due, str):
        try:
            due = date.fromisoformat(due.strip())
        except ValueError:
            due = None
    if type(due) is not date:  # a datetime is a date too, but not a due date
        raise _Rejected(
            "due",
            f"must be a date like 2026-05-22, not {meta.get('due')!r}",
            "write due: YYYY-MM-DD",
        )
    opportunity_id = _text(meta, "opportunity_id")
    if opportunity_id is not None and not _OPPORTUNITY_ID.match(opportunity_id):
        raise _Rejected(
            "opportunity_id",
            f"must be an 18-character Opportunity Id, not {opportunity_id!r}",
            "copy the deal's Id from the packet, or leave the key out",
        )
    if not body:
        raise _Rejected(None, "the action has no text", "write what was agreed below its keys")
    return {
        "action_id": action_id,
        "owner": owner,
        "due_date": due,
        "opportunity_id": opportunity_id,
        "status": "open",
    }


def _parse_entry(front: str, body: str) -> tuple[str, dict[str, Any]]:
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        problem = f"the front matter is not valid YAML ({str(exc).splitlines()[0]})"
        raise _Rejected(None, problem, "write one key: value per line") from exc
    if not isinstance(meta, dict):
        raise _Rejected(None, "the front matter must be key: value lines", "write key: value")
    kind = str(meta.get("kind", "lesson")).strip().lower()
    if kind not in KINDS:
        raise _Rejected(
            "kind", f"must be lesson, feedback or action, not {kind!r}", "write kind: lesson"
        )
    fields = _action_fields(meta, body) if kind == "action" else _learning_fields(meta, body, kind)
    fields["shareable"] = _as_bool(meta.get("shareable", False))
    return kind, fields


def read_entries(
    text: str, *, week: str, manager_slug: str, rep_slug: str, source: str
) -> tuple[list[Learning], list[EntryProblem]]:
    """The good entries of one learnings file, and one problem per entry it rejected."""
    split, problems = _split_entries(text, source)
    learnings: list[Learning] = []
    recorded: dict[str, int] = {}  # action id -> the entry recording it in this file
    for index, (front, body) in enumerate(split, start=1):
        try:
            kind, fields = _parse_entry(front, body)
            action_id = fields.get("action_id")
            if fields.get("status") == "open" and action_id in recorded:
                raise _Rejected(
                    "id",
                    f"{action_id!r} is already the id of entry {recorded[action_id]}",
                    "give each action of the pair its own id",
                )
            if fields.get("status") == "done" and action_id in recorded:
                raise _Rejected(
                    "status",
                    f"marks done the action {action_id!r} this same file records",
                    "mark it done in a later week's file, after the next 1:1",
                )
        except _Rejected as exc:
            problems.append(EntryProblem(source, index, exc.key, exc.problem, exc.fix))
            continue
        if fields.get("status") == "open":
            recorded[action_id] = index
        digest = hashlib.sha256(f"{source}\n{index}\n{front}\n{body}".encode()).hexdigest()[:16]
        learnings.append(
            Learning(
                learning_id=digest,
                week=week,
                manager_slug=manager_slug,
                rep_slug=rep_slug,
                kind=kind,
                body=body,
                source_path=source,
                entry_number=index,
                **{"theme": None, **fields},
            )
        )
    problems.sort(key=lambda p: p.entry or 0)
    return learnings, problems


def parse_learnings(
    text: str, *, week: str, manager_slug: str, rep_slug: str, source: str
) -> list[Learning]:
    """Every entry of one learnings file; the first problem raises LearningsFormatError."""
    learnings, problems = read_entries(
        text, week=week, manager_slug=manager_slug, rep_slug=rep_slug, source=source
    )
    if problems:
        raise LearningsFormatError(problems[0].message)
    return learnings
