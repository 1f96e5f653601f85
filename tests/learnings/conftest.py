"""The learnings loop run once per session on a small generated org: packets of the previous
week published, pairs write learnings for it, then this week's run reads them in (load,
dbt, render, publish) exactly as the pipeline steps do."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from salesprep import pipeline
from salesprep.catalog import OBJECTS
from salesprep.config import Settings
from salesprep.demo_org import generate_org
from salesprep.org_folder import read_object
from salesprep.warehouse import build_warehouse
from salesprep.weeks import Week

WEEK = Week.parse("2026-W20")
PREVIOUS = WEEK.shift(-1)
# The learnings models and everything downstream of them (the feedback marts count shared
# feedback too).
LEARNINGS_MODELS = "path:models/staging/learnings+"


@dataclass
class Pair:
    manager_id: str
    rep_id: str
    manager_slug: str
    rep_slug: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.manager_id, self.rep_id)

    def learnings_path(self, root: Path, week: Week = PREVIOUS) -> Path:
        return root / "learnings" / week.label / self.manager_slug / f"{self.rep_slug}.md"


@dataclass
class LearningsRun:
    """The run's settings and outputs, and what the test wrote and expects."""

    settings: Settings
    shared: Path
    pairs: list[Pair]
    markers: dict[str, str]  # marker → kind of match it was written to prove
    expected: dict[str, set[tuple[str, str]]]  # marker → pairs whose packet must show it
    load_summary: dict
    render_summary: dict
    publish_summary: dict
    extras: dict = field(default_factory=dict)

    @property
    def week_dir(self) -> Path:
        return self.shared / WEEK.label

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.settings.published_warehouse_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def manifest(self) -> dict:
        return json.loads((self.week_dir / "manifest.json").read_text(encoding="utf-8"))


def _org_to_raw(org_dir: Path, raw_root: Path) -> None:
    """The landing zone of an org folder (extraction over HTTP has its own tests)."""
    for sobject in OBJECTS:
        folder = raw_root / sobject.name
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(read_object(org_dir, sobject.name).table, folder / f"{sobject.name}.parquet")


def _entry(kind: str, theme: str, body: str, *, shareable: bool, **extra: str) -> str:
    lines = [
        "---",
        f"kind: {kind}",
        f"theme: {theme}",
        f"shareable: {'yes' if shareable else 'no'}",
    ]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join([*lines, "---", body, ""])


@pytest.fixture(scope="session")
def learnings_run(tmp_path_factory: pytest.TempPathFactory) -> LearningsRun:
    return run_learnings_loop(tmp_path_factory.mktemp("learnings-run"))


def run_learnings_loop(data_dir: Path) -> LearningsRun:
    """Two weekly runs around pairs writing learnings; everything lands under `data_dir`."""
    shared = data_dir / "shared"
    settings = Settings(data_dir=data_dir, shared_folder=str(shared), dbt_unit_tests=True)
    generate_org(data_dir / "org", reps=6, managers=2, weeks=12, seed=3, end_week=WEEK)
    _org_to_raw(data_dir / "org", settings.raw_root)

    # Last week's run: nothing recorded yet; its packets and manifest go to the shared folder.
    pipeline.load_learnings(WEEK, settings)
    build_warehouse(settings, WEEK)
    pipeline.render_packets(PREVIOUS, settings)
    pipeline.publish(PREVIOUS, settings)
    manifest = json.loads((shared / PREVIOUS.label / "manifest.json").read_text("utf-8"))
    pairs = [
        Pair(p["manager_id"], p["rep_id"], p["manager_slug"], p["rep_slug"])
        for p in manifest["packets"]
    ]
    assert len(pairs) >= 4, "the generated org should have at least four pairs"

    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        open_deals = con.execute(
            "select rep_id, stage_end, industry from fct_deal_movement_weekly "
            "where week = ? and is_open_end order by rep_id, opportunity_id",
            [WEEK.label],
        ).fetchall()
        # The themes of each rep's losses in the last 4 weeks, as the feedback marts name them.
        losses = con.execute(
            "select rep_id, theme_key from rpt_feedback_mentions_weekly "
            "where week = ? and mention_kind = 'loss_reason' order by rep_id, source_id",
            [WEEK.label],
        ).fetchall()
    by_rep = {pair.rep_id: pair for pair in pairs}

    # Pair A has open deals: B shares a lesson on one of their stages, C on an industry.
    a = next(p for p in pairs if any(r == p.rep_id and i for r, _, i in open_deals))
    b, c, d = [p for p in pairs if p is not a][:3]

    def reps_with(predicate) -> set[tuple[str, str]]:
        return {by_rep[r].key for r in {row[0] for row in predicate} if r in by_rep}

    def at_stage_of(stage: str) -> set[tuple[str, str]]:
        return reps_with(row for row in open_deals if row[1].lower() == stage.lower())

    def in_industry_of(industry: str) -> set[tuple[str, str]]:
        return reps_with(row for row in open_deals if (row[2] or "").lower() == industry.lower())

    # The stage and industry of A's deals that the fewest other reps share, so the learning
    # reaches some pairs and misses others.
    stage = min(
        {s for r, s, _ in open_deals if r == a.rep_id}, key=lambda s: (len(at_stage_of(s)), s)
    )
    industry = min(
        {i for r, _, i in open_deals if r == a.rep_id and i},
        key=lambda i: (len(in_industry_of(i)), i),
    )
    at_stage, in_industry = at_stage_of(stage), in_industry_of(industry)
    competitor_losses = reps_with(row for row in losses if row[1] == "competitor")
    price_losses = reps_with(row for row in losses if row[1] == "price")
    # The themes below are chosen to match no keyword theme by accident.
    custom = ["mutual plan", "follow up", "security review", f"references {industry.lower()}"]
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        named = con.execute(
            "select theme, keyword from unnest(?) as t(theme) "
            "inner join dim_learning_theme_keywords on theme like '%' || keyword || '%'",
            [custom],
        ).fetchall()
    assert not named, named

    markers = {
        "MARK-STAGE": "stage",
        "MARK-INDUSTRY": "industry",
        "MARK-COMPETITOR": "theme from losses",
        "MARK-SECURITY": "theme from the pair's own feedback",
        "MARK-PRIVATE-A": "private, own pair",
        "MARK-PRIVATE-FEEDBACK-A": "private feedback, own pair",
        "MARK-PRIVATE-B": "private, names a stage of A's deals",
        "MARK-FEEDBACK-C": "shared field feedback, theme from losses",
        "MARK-TOO-LATE": "recorded for this week itself",
    }
    files = {
        a.learnings_path(shared): [
            _entry("lesson", "follow up", "MARK-PRIVATE-A: chase the CFO", shareable=False),
            _entry("feedback", "security review", "MARK-PRIVATE-FEEDBACK-A", shareable=False),
        ],
        b.learnings_path(shared): [
            _entry("lesson", "mutual plan", f"MARK-STAGE at {stage}", shareable=True, stage=stage),
            _entry("lesson", "mutual plan", "MARK-PRIVATE-B", shareable=False, stage=stage),
            _entry("lesson", "competitive displacement", "MARK-COMPETITOR", shareable=True),
        ],
        c.learnings_path(shared): [
            _entry(
                "lesson",
                "references",
                "MARK-INDUSTRY <script>alert(1)</script> | *x*",
                shareable=True,
                tags=f"[{industry.lower()}]",
            ),
            _entry("lesson", "security review", "MARK-SECURITY", shareable=True),
            _entry("feedback", "pricing", "MARK-FEEDBACK-C per-seat price", shareable=True),
        ],
        d.learnings_path(shared, WEEK): [
            _entry("lesson", "anything", "MARK-TOO-LATE", shareable=True, stage=stage),
        ],
        d.learnings_path(shared).with_name("not-a-pair.md"): ["---\ntheme: x\n"],
    }
    for path, entries in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(entries), encoding="utf-8")

    expected = {
        "MARK-STAGE": at_stage | {b.key},
        "MARK-INDUSTRY": in_industry | {c.key},
        "MARK-COMPETITOR": competitor_losses | {b.key},
        "MARK-SECURITY": {a.key, c.key},
        "MARK-PRIVATE-A": {a.key},
        "MARK-PRIVATE-FEEDBACK-A": {a.key},
        "MARK-PRIVATE-B": {b.key},
        "MARK-FEEDBACK-C": price_losses | {c.key},
        "MARK-TOO-LATE": set(),
    }

    # This week's run, step by step as the pipeline does it; dbt rebuilds only the learnings
    # models (everything upstream is already in the build warehouse) to keep the suite fast.
    load_summary = pipeline.load_learnings(WEEK, settings)
    build_warehouse(settings, WEEK, select=LEARNINGS_MODELS)
    render_summary = pipeline.render_packets(WEEK, settings)
    publish_summary = pipeline.publish(WEEK, settings)
    return LearningsRun(
        settings=settings,
        shared=shared,
        pairs=pairs,
        markers=markers,
        expected=expected,
        load_summary=load_summary,
        render_summary=render_summary,
        publish_summary=publish_summary,
        extras={"a": a, "b": b, "c": c, "d": d, "stage": stage, "industry": industry},
    )
