"""A week of packets as one batch: render every pair from the published warehouse into a
local rendered folder, and read that folder back for publishing (tasks hand over the path)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesprep import progress
from salesprep.config import PROJECT_ROOT, Settings
from salesprep.packets.context import connect_warehouse, contexts_from_marts, week_money
from salesprep.packets.digest import build_digest, render_digest
from salesprep.packets.marts import read_week_marts
from salesprep.packets.model import Lesson
from salesprep.packets.render import RenderedPacket, render_packet
from salesprep.runs.atomic_swap import replacing, write_text_atomic
from salesprep.weeks import Week

log = logging.getLogger(__name__)

PACKETS_DIR = "packets"
EXTRA_DIR = "extra"
DIGEST_HTML = "learnings.html"
DIGEST_MD = "learnings.md"
# Who got no packet this week and why (the week index lists them).
UNPAIRED_FILE = "unpaired.json"
# The metric dictionary travels with every week's packets, which link to it.
METRICS_MD = "metrics.md"
METRICS_SOURCE = PROJECT_ROOT / "docs" / "metrics.md"
_KINDS = (("html", "html"), ("markdown", "md"), ("json", "json"))


@dataclass(frozen=True)
class RenderResult:
    """What render_week wrote."""

    week: str
    out_dir: Path
    packets: int
    performance_conversations: int
    stuck_deals: int
    lessons: int = 0
    digest_lessons: int = 0
    escalations: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "rendered_dir": str(self.out_dir),
            "packets": self.packets,
            "performance_conversations": self.performance_conversations,
            "stuck_deals": self.stuck_deals,
            "lessons_in_packets": self.lessons,
            "digest_lessons": self.digest_lessons,
            "escalations": self.escalations,
        }


def render_week(
    week: Week,
    settings: Settings,
    out_dir: Path,
    lessons: Sequence[Lesson] = (),
    *,
    warehouse: Path | None = None,
    data_to: str | None = None,
) -> RenderResult:
    """Render the packet of every pair for `week` into `out_dir/packets/` (replacing what a
    previous run left there), and the cross-team learnings digest into
    `out_dir/extra/learnings.{html,md}`; publish_rendered_week publishes both in one swap.
    `warehouse` is the DuckDB file to read (default: the published one); `data_to` (ISO time)
    marks a partial week: every packet says how far its data reaches."""
    con = connect_warehouse(settings, warehouse)
    try:
        marts = read_week_marts(con, week, settings.metrics.underperformance_window_weeks)
    finally:
        con.close()
    contexts = contexts_from_marts(marts, settings, lessons)
    for ctx in contexts:
        ctx.data_to = data_to
    digest = build_digest(marts)
    packets = progress.track(contexts, f"render packets {week.label}", unit="packets")
    rendered = [render_packet(ctx) for ctx in packets]
    digest_html, digest_md = render_digest(digest, week_money(marts, settings))
    write_rendered(rendered, out_dir)
    write_extra(
        out_dir,
        {DIGEST_HTML: digest_html, DIGEST_MD: digest_md, METRICS_MD: _metric_dictionary()},
    )
    log.info(
        "rendered %d packets and the learnings digest (%d shared lessons) for %s into %s",
        len(rendered),
        digest.lessons,
        week.label,
        out_dir,
    )
    return RenderResult(
        week=week.label,
        out_dir=out_dir,
        packets=len(rendered),
        performance_conversations=sum(c.performance_conversation_recommended for c in contexts),
        stuck_deals=sum(len(c.stuck_deals) for c in contexts),
        lessons=sum(len(c.lessons) for c in contexts),
        digest_lessons=digest.lessons,
        escalations=sum(1 for e in digest.escalations if e.escalate),
    )


def _metric_dictionary() -> str:
    """docs/metrics.md, which every packet's appendix links to as `../metrics.md`."""
    try:
        return METRICS_SOURCE.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(
            f"the metric dictionary {METRICS_SOURCE} that packets link to cannot be read: "
            f"{exc}; install salesprep with its docs/ folder"
        ) from exc


def write_extra(out_dir: Path, files: dict[str, str]) -> None:
    """Write files into `out_dir/extra/` (published beside the packets), each atomically."""
    folder = Path(out_dir) / EXTRA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        write_text_atomic(folder / name, text)


def write_rendered(rendered: Sequence[RenderedPacket], out_dir: Path) -> None:
    """`out_dir/packets/NNNN.{html,md,json}` in order, swapped in as a whole."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with replacing(out_dir / PACKETS_DIR) as fresh:
        for number, packet in enumerate(rendered, start=1):
            for attr, ext in _KINDS:
                (fresh / f"{number:05d}.{ext}").write_text(getattr(packet, attr), encoding="utf-8")


def write_unpaired(out_dir: Path, users: Sequence[dict[str, Any]]) -> None:
    """The users who got no packet this week, and why, for the week index."""
    write_text_atomic(
        Path(out_dir) / UNPAIRED_FILE, json.dumps(list(users), indent=2, sort_keys=True) + "\n"
    )


def read_unpaired(out_dir: Path) -> list[dict[str, Any]]:
    """What write_unpaired wrote (nothing when the render step wrote none)."""
    path = Path(out_dir) / UNPAIRED_FILE
    if not path.is_file():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))


def read_rendered(out_dir: Path) -> tuple[list[RenderedPacket], dict[str, bytes]]:
    """The packets render_week wrote, and the extra files (relative path → bytes)."""
    folder = Path(out_dir) / PACKETS_DIR
    if not folder.is_dir():
        raise FileNotFoundError(
            f"rendered folder {folder} does not exist: run the render_packets step first"
        )
    packets = []
    for json_path in sorted(folder.glob("*.json")):
        texts = {}
        for attr, ext in _KINDS:
            path = json_path.with_suffix(f".{ext}")
            if not path.exists():
                raise FileNotFoundError(f"rendered packet {json_path.stem} lacks its .{ext} file")
            texts[attr] = path.read_text(encoding="utf-8")
        packets.append(RenderedPacket(**texts))
    extra_root = Path(out_dir) / EXTRA_DIR
    extra = {}
    if extra_root.is_dir():
        for path in sorted(p for p in extra_root.rglob("*") if p.is_file()):
            extra[path.relative_to(extra_root).as_posix()] = path.read_bytes()
    return packets, extra
