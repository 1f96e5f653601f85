"""Rendering: a week's packet contexts and learnings digest to HTML, Markdown and JSON in the
week's rendered folder (`render_week`), which publish reads back, and the index pages, with one
Jinja environment (HTML autoescaped, undefined names are errors)."""

from __future__ import annotations

import functools
import json
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape
from markupsafe import Markup

from salesprep import progress
from salesprep.config import Settings
from salesprep.learnings.entries import TEMPLATE as LEARNINGS_TEMPLATE
from salesprep.packets.charts import (
    ACTIVITY_SERIES,
    MONEY_SERIES,
    TEAM_ACTIVITY_SERIES,
    TEAM_MONEY_SERIES,
    chart_template,
    team_trend_svg,
    trend_svg,
)
from salesprep.packets.context import WeekContexts
from salesprep.packets.digest import Digest, build_digest
from salesprep.packets.formatting import FILTERS, MoneyFormat
from salesprep.packets.layout import (
    DIGEST_HTML,
    DIGEST_MD,
    EXTRA_DIR,
    METRICS_MD,
    METRICS_SOURCE,
    PACKET_FORMS,
    PACKETS_DIR,
    TEAMS_JSON,
    UNPAIRED_FILE,
)
from salesprep.packets.marts import MartError, connect_warehouse, read_week_marts
from salesprep.packets.meeting import meeting_ics
from salesprep.packets.model import Lesson, PacketContext
from salesprep.packets.team import WeekTeams, team_pages
from salesprep.runs.atomic_swap import replacing, write_text_atomic
from salesprep.warehouse.connection import Which
from salesprep.weeks import Week

log = logging.getLogger(__name__)

PRINT_MOVED_DEALS = 10
PRINT_THEME_ITEMS = 2
PRINT_LESSONS = 4
PRINT_PREP_ITEMS = 5
PRINT_SINCE_ROWS = 8


class RenderError(RuntimeError):
    """A packet or index page that could not be rendered; the message names which."""


@dataclass(frozen=True)
class RenderedPacket:
    """One packet in its three forms, and the pair's calendar file (the pre-set weekly 1:1).
    Identity (manager, rep, week) is read from the JSON."""

    html: str
    markdown: str
    json: str
    ics: str

    @functools.cached_property
    def data(self) -> dict[str, Any]:
        return json.loads(self.json)

    @property
    def week(self) -> str:
        return self.data["week"]

    @property
    def manager_id(self) -> str:
        return self.data["manager"]["id"]

    @property
    def manager_name(self) -> str:
        return self.data["manager"]["name"]

    @property
    def rep_id(self) -> str:
        return self.data["rep"]["id"]

    @property
    def rep_name(self) -> str:
        return self.data["rep"]["name"]


@dataclass(frozen=True)
class IndexPacket:
    """A packet as an index page lists it: `<manager-slug>/<slug>.{html,md,json}`."""

    rep_id: str
    rep_name: str
    slug: str
    minutes: int
    stuck_deals: int


@dataclass(frozen=True)
class IndexManager:
    """A manager and their packets, for the week index and the manager's own index."""

    manager_id: str
    manager_name: str
    slug: str
    packets: list[IndexPacket] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The packets' Jinja environment: autoescape for `*.html.j2`, StrictUndefined."""
    env = Environment(
        loader=PackageLoader("salesprep.packets", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the package: no stat() of every included file on every render.
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals.update(
        activity_series=ACTIVITY_SERIES,
        money_series=MONEY_SERIES,
        team_activity_series=TEAM_ACTIVITY_SERIES,
        team_money_series=TEAM_MONEY_SERIES,
        learnings_template=LEARNINGS_TEMPLATE,
        # The print stylesheet keeps a packet to 4 A4 pages: it prints this many moved deals
        # (and at most 3 lost deals and next steps per field-feedback theme), and says so.
        print_moved_deals=PRINT_MOVED_DEALS,
        print_theme_items=PRINT_THEME_ITEMS,
        print_lessons=PRINT_LESSONS,
        print_prep_items=PRINT_PREP_ITEMS,
        print_since_rows=PRINT_SINCE_ROWS,
    )
    return env


def render_packet(ctx: PacketContext) -> RenderedPacket:
    """The packet of one pair as HTML, Markdown and the `.json` payload. Any failure is a
    RenderError that names the pair."""
    env = environment()
    try:
        series = {line.name: line.trend for line in ctx.metrics}
        chart = Markup(trend_svg(ctx.trend_weeks, series, money=ctx.money))
        html = env.get_template("packet.html.j2").render(p=ctx, chart=chart, money=ctx.money)
        markdown = env.get_template("packet.md.j2").render(p=ctx, money=ctx.money)
        payload = ctx.to_json()
        ics = meeting_ics(ctx)
    except Exception as exc:
        raise RenderError(
            f"rendering the packet of pair {ctx.pair_id} (rep {ctx.rep.id}) for {ctx.week} "
            f"failed: {type(exc).__name__}: {exc}"
        ) from exc
    return RenderedPacket(html=html, markdown=markdown, json=payload, ics=ics)


# Below this many pairs a week renders in this process: starting workers costs more than it
# saves (a packet takes a few milliseconds, forking a worker about as long as ten).
POOL_MIN_PAIRS = 32
# Work is handed out in chunks of packets: several per worker, so that a slow chunk does not
# leave the other workers idle at the end, and progress moves as chunks finish.
_CHUNKS_PER_WORKER = 6
_MAX_CHUNK = 64

# The contexts a forked worker renders: set in the parent before the pool forks, so workers
# inherit them instead of receiving them pickled. Only ever set while a pool is running.
_pool_contexts: Sequence[PacketContext] = ()


def render_workers(settings: Settings, pairs: int) -> int:
    """How many processes render `pairs` packets: `render_workers` from config, else one per
    CPU this process may use; 1 (in this process) for a few pairs, where the platform cannot
    fork, or inside a daemonic process (which may not start children)."""
    wanted = settings.render_workers or _usable_cpus()
    if pairs < POOL_MIN_PAIRS or wanted <= 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        log.info("rendering in one process: this platform cannot fork render workers")
        return 1
    if multiprocessing.current_process().daemon:
        log.info("rendering in one process: a daemonic process may not start render workers")
        return 1
    return min(wanted, pairs)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class PacketTally:
    """What a run of packets held: counted where they were rendered (a worker), summed in the
    parent, so the parent needs no context of its own."""

    packets: int = 0
    performance_conversations: int = 0
    stuck_deals: int = 0
    lessons: int = 0

    def add(self, other: PacketTally) -> None:
        self.packets += other.packets
        self.performance_conversations += other.performance_conversations
        self.stuck_deals += other.stuck_deals
        self.lessons += other.lessons


def render_packets(
    contexts: Sequence[PacketContext], folder: Path, *, workers: int = 1, description: str
) -> int:
    """Render every context and write `folder/NNNNN.{html,md,json}` (numbered from 1 in the
    order of `contexts`, whoever renders them), in this process when `workers` is 1, else in a
    pool of `workers` forked processes. `contexts` may build each context when it is indexed
    (WeekContexts): the workers then build their own. Progress is reported as `description`.
    A packet that fails raises RenderError naming its pair. Returns the number of packets
    written."""
    return _render_all(contexts, folder, workers=workers, description=description).packets


def _render_all(
    contexts: Sequence[PacketContext],
    folder: Path,
    *,
    workers: int,
    description: str,
    meanwhile: Callable[[], Any] | None = None,
) -> PacketTally:
    """render_packets, returning the tally; `meanwhile` runs in this process while a pool
    renders (before the packets when there is none)."""
    folder = Path(folder)
    tally = PacketTally()
    with progress.task(description, total=len(contexts), unit="packets") as bar:
        if workers <= 1:
            if meanwhile is not None:
                meanwhile()
            for start in range(len(contexts)):
                done = _write_packets(contexts, start, start + 1, folder)
                tally.add(done)
                bar.advance(done.packets)
        else:
            for done in _pool_render(contexts, folder, workers, meanwhile):
                tally.add(done)
                bar.advance(done.packets)
    return tally


def _chunks(total: int, workers: int) -> list[tuple[int, int]]:
    size = max(1, min(_MAX_CHUNK, math.ceil(total / (workers * _CHUNKS_PER_WORKER))))
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _pool_render(
    contexts: Sequence[PacketContext],
    folder: Path,
    workers: int,
    meanwhile: Callable[[], Any] | None = None,
) -> Iterator[PacketTally]:
    """Render in forked workers, yielding the tally of each chunk as it is written."""
    global _pool_contexts
    chunks = _chunks(len(contexts), workers)
    _compile_templates()  # once, here: the forked workers inherit them compiled
    _pool_contexts = contexts
    try:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)), mp_context=multiprocessing.get_context("fork")
        ) as pool:
            futures: dict[Future[PacketTally], tuple[int, int]] = {
                pool.submit(_pool_chunk, start, stop, str(folder)): (start, stop)
                for start, stop in chunks
            }
            if meanwhile is not None:
                meanwhile()
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in sorted(done, key=futures.__getitem__):
                    if future.exception() is not None:
                        for other in pending:
                            other.cancel()
                        _raise_chunk_error(future, contexts, *futures[future])
                    yield future.result()
    finally:
        _pool_contexts = ()


def _compile_templates() -> None:
    """Load every packet template (and the chart's) into the environments' caches."""
    env = environment()
    for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
        env.get_template(name)
    chart_template()


def _pool_chunk(start: int, stop: int, folder: str) -> PacketTally:
    """In a worker: build, render and write the inherited contexts[start:stop]."""
    return _write_packets(_pool_contexts, start, stop, Path(folder))


def _raise_chunk_error(
    future: Future[PacketTally], contexts: Sequence[PacketContext], start: int, stop: int
) -> None:
    exc = future.exception()
    if isinstance(exc, RenderError | MartError):
        raise exc
    pairs = ", ".join(_pair_ids(contexts, start, stop))
    if isinstance(exc, BrokenProcessPool):
        raise RenderError(
            f"a render worker stopped while rendering packets {start + 1} to {stop} "
            f"(pairs {pairs}): {exc}"
        ) from exc
    raise RenderError(
        f"rendering packets {start + 1} to {stop} (pairs {pairs}) failed: "
        f"{type(exc).__name__}: {exc}"
    ) from exc


def _pair_ids(contexts: Sequence[PacketContext], start: int, stop: int) -> list[str]:
    """The pair ids of contexts[start:stop], without building contexts that build lazily."""
    if isinstance(contexts, WeekContexts):
        return [pair["pair_id"] for pair in contexts.marts.pairs[start:stop]]
    return [ctx.pair_id for ctx in contexts[start:stop]]


def _write_packets(
    contexts: Sequence[PacketContext], start: int, stop: int, folder: Path
) -> PacketTally:
    """Build (when `contexts` builds lazily) and render contexts[start:stop], write each as
    `folder/NNNNN.{html,md,json}`, and count what they held."""
    tally = PacketTally()
    for index in range(start, stop):
        ctx = contexts[index]
        packet = render_packet(ctx)
        for attr, ext in PACKET_FORMS:
            (folder / f"{index + 1:05d}.{ext}").write_text(getattr(packet, attr), encoding="utf-8")
        tally.packets += 1
        tally.performance_conversations += ctx.performance_conversation_recommended
        tally.stuck_deals += len(ctx.stuck_deals)
        tally.lessons += len(ctx.lessons)
    return tally


def render_digest(digest: Digest, money: MoneyFormat) -> tuple[str, str]:
    """The learnings digest as HTML and Markdown, amounts written as `money` says (the week's
    corporate currency and money locale)."""
    env = environment()
    try:
        html = env.get_template("learnings.html.j2").render(d=digest, money=money)
        markdown = env.get_template("learnings.md.j2").render(d=digest, money=money)
    except TemplateError as exc:
        raise RenderError(
            f"rendering the learnings digest for {digest.week} failed: {exc}"
        ) from exc
    return html, markdown


def render_week_index(
    week: str,
    managers: list[IndexManager],
    digest: str | None = None,
    quality: str | None = None,
    unpaired: Sequence[Mapping[str, Any]] = (),
) -> str:
    """`<week>/index.html`: every pair of the week, grouped by manager, with links to the
    cross-team learnings digest and the quality report (paths relative to the week folder)
    when the week has them, and the users who got no packet with the reason (`name`, `why`)."""
    total = sum(len(m.packets) for m in managers)
    return _render_page(
        "week_index.html.j2",
        week=week,
        managers=managers,
        total=total,
        digest=digest,
        quality=quality,
        unpaired=list(unpaired),
    )


def render_manager_index(week: str, manager: IndexManager, teams: WeekTeams | None = None) -> str:
    """`<week>/<manager-slug>/index.html`, the manager's team page: with the week's team data
    (`teams`, see packets/team.py) the team in the order to prepare and why, each rep's
    numbers, the team's field-feedback themes and trend chart; then the packets. Without it
    (a week published from packets alone) the packets only."""
    team = teams.manager(manager.manager_id) if teams is not None else None
    if team is None:
        return _render_page("manager_index.html.j2", week=week, manager=manager, team=None)
    weeks = team.trend_weeks
    chart = Markup(team_trend_svg(weeks, team.trend, money=teams.money)) if weeks else None
    slugs = {packet.rep_id: packet.slug for packet in manager.packets}
    return _render_page(
        "manager_index.html.j2",
        week=week,
        manager=manager,
        team=team,
        teams=teams,
        slugs=slugs,
        chart=chart,
        money=teams.money,
    )


def _render_page(name: str, **values: Any) -> str:
    try:
        return environment().get_template(name).render(**values)
    except TemplateError as exc:
        raise RenderError(f"rendering {name} for {values.get('week')} failed: {exc}") from exc


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
    which: Which = "published",
    data_to: str | None = None,
) -> RenderResult:
    """Render the packet of every pair for `week` into `out_dir/packets/` (replacing what a
    previous run left there), the cross-team learnings digest into
    `out_dir/extra/learnings.{html,md}` and the managers' team data into
    `out_dir/extra/teams.json`; publish_rendered_week publishes them all in one swap.
    The marts are read on the settings' target (`which`: the published ones by default; the
    weekly run renders from the checked build), or from the DuckDB file `warehouse`;
    `data_to` (ISO time) marks a partial week: every packet says how far its data reaches."""
    con = connect_warehouse(settings, warehouse, which=which)
    try:
        marts = read_week_marts(con, week, settings.metrics.underperformance_window_weeks)
    finally:
        con.close()
    # Each context is built where its packet is rendered: in a worker when there is a pool.
    contexts = WeekContexts(marts, settings, lessons, data_to=data_to)
    extra: dict[str, Any] = {}

    def digest_and_teams() -> None:
        """The learnings digest and the team data, in this process while the pool renders."""
        digest = build_digest(marts)
        teams = team_pages(marts, settings, contexts.money)
        digest_html, digest_md = render_digest(digest, contexts.money)
        extra["digest"] = digest
        extra["files"] = {
            DIGEST_HTML: digest_html,
            DIGEST_MD: digest_md,
            METRICS_MD: _metric_dictionary(),
            TEAMS_JSON: teams.to_json(),
        }

    workers = render_workers(settings, len(contexts))
    out_dir.mkdir(parents=True, exist_ok=True)
    with replacing(out_dir / PACKETS_DIR) as fresh:
        tally = _render_all(
            contexts,
            fresh,
            workers=workers,
            description=f"render packets {week.label}",
            meanwhile=digest_and_teams,
        )
    write_extra(out_dir, extra["files"])
    digest: Digest = extra["digest"]
    log.info(
        "rendered %d packets (%s) and the learnings digest (%d shared lessons) for %s into %s",
        tally.packets,
        f"{workers} processes" if workers > 1 else "in-process",
        digest.lessons,
        week.label,
        out_dir,
    )
    return RenderResult(
        week=week.label,
        out_dir=out_dir,
        packets=tally.packets,
        performance_conversations=tally.performance_conversations,
        stuck_deals=tally.stuck_deals,
        lessons=tally.lessons,
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
    """`out_dir/packets/NNNNN.{html,md,json}` in order, swapped in as a whole."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with replacing(out_dir / PACKETS_DIR) as fresh:
        for number, packet in enumerate(rendered, start=1):
            for attr, ext in PACKET_FORMS:
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
        for attr, ext in PACKET_FORMS:
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
