"""Renders packet contexts to HTML, Markdown and JSON, and the week's index pages, with one
Jinja environment (HTML autoescaped, undefined names are errors)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape
from markupsafe import Markup

from salesprep.learnings.entries import TEMPLATE as LEARNINGS_TEMPLATE
from salesprep.packets.charts import ACTIVITY_SERIES, MONEY_SERIES, trend_svg
from salesprep.packets.formatting import FILTERS
from salesprep.packets.model import PacketContext


class RenderError(RuntimeError):
    """A packet or index page that could not be rendered; the message names which."""


@dataclass(frozen=True)
class RenderedPacket:
    """One packet in its three forms. Identity (manager, rep, week) is read from the JSON."""

    html: str
    markdown: str
    json: str

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
    )
    env.filters.update(FILTERS)
    env.globals.update(
        activity_series=ACTIVITY_SERIES,
        money_series=MONEY_SERIES,
        learnings_template=LEARNINGS_TEMPLATE,
    )
    return env


def render_packet(ctx: PacketContext) -> RenderedPacket:
    """The packet of one pair as HTML, Markdown and the `.json` payload."""
    env = environment()
    series = {line.name: line.trend for line in ctx.metrics}
    chart = Markup(trend_svg(ctx.trend_weeks, series))
    try:
        html = env.get_template("packet.html.j2").render(p=ctx, chart=chart, money=ctx.money)
        markdown = env.get_template("packet.md.j2").render(p=ctx, money=ctx.money)
    except TemplateError as exc:
        raise RenderError(
            f"rendering the packet of pair {ctx.pair_id} (rep {ctx.rep.id}) for {ctx.week} "
            f"failed: {exc}"
        ) from exc
    return RenderedPacket(html=html, markdown=markdown, json=ctx.to_json())


def render_packets(contexts: Iterable[PacketContext]) -> list[RenderedPacket]:
    """Every packet of a week, in the order given."""
    return [render_packet(ctx) for ctx in contexts]


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


def render_manager_index(week: str, manager: IndexManager) -> str:
    """`<week>/<manager-slug>/index.html`: one manager's packets for the week."""
    return _render_page("manager_index.html.j2", week=week, manager=manager)


def _render_page(name: str, **values: Any) -> str:
    try:
        return environment().get_template(name).render(**values)
    except TemplateError as exc:
        raise RenderError(f"rendering {name} for {values.get('week')} failed: {exc}") from exc
