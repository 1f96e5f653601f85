"""End to end on a real company's org (issue 11): a generated international org (EUR corporate
with USD, GBP and JPY deals at dated rates, a currency without any rate, a fiscal year starting
in February, monthly quotas, no email Tasks, record types with renewals left out by config,
forecast categories with Omitted deals, a German locale), served over HTTP, through
`salesprep run` to published packets.

Every number in every packet `.json` is recomputed from the org CSVs by the independent oracle
(tests/oracle/metrics.py) and must agree to the cent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from oracle.metrics import load_org, recompute_week

from salesprep.demo_org import generate_org
from salesprep.demo_org.shape import INTERNATIONAL
from salesprep.weeks import Week

WEEK = Week.parse("2026-W47")
TZ = "Europe/Berlin"
RULES = {"record_types": {"include": [], "exclude": ["Renewal"]}}
METRICS = (
    "calls",
    "emails",
    "meetings",
    "opportunities_created",
    "pipeline_created",
    "closed_won_count",
    "closed_won_amount",
    "closed_lost_count",
)
CENT = 0.005

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e-intl")
    org = root / "org"
    generate_org(
        org,
        reps=7,
        managers=2,
        weeks=14,
        seed=23,
        end_week=WEEK,
        shape=INTERNATIONAL,
        currency_without_rate="CHF",
    )
    env = dict(
        os.environ,
        SALESPREP_ORG_TIMEZONE=TZ,
        SALESPREP_RECORD_TYPES__EXCLUDE=json.dumps(RULES["record_types"]["exclude"]),
    )
    command = [sys.executable, "-m", "salesprep.cli", "run", "--week", WEEK.label]
    command += ["--org", str(org), "--data-dir", str(root / "data")]
    command += ["--shared-folder", str(root / "shared")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    week_dir = root / "shared" / WEEK.label
    manifest = json.loads((week_dir / "manifest.json").read_text())
    packets = {
        p["rep_id"]: (
            json.loads((week_dir / p["paths"]["json"]).read_text()),
            (week_dir / p["paths"]["md"]).read_text(),
        )
        for p in manifest["packets"]
    }
    oracle = recompute_week(load_org(org, tz=TZ, rules=RULES), WEEK.label, tz=TZ)
    return {"week_dir": week_dir, "packets": packets, "oracle": oracle}


def _cent(actual, expected, where):
    if expected is None or actual is None:
        assert actual == expected, where
    else:
        assert abs(actual - expected) < CENT, (where, actual, expected)


def test_every_pair_gets_a_packet_in_the_corporate_currency(run):
    oracle = run["oracle"]
    assert oracle.currency == "EUR"
    assert {rep for _, rep in oracle.pairs} == set(run["packets"])
    for rep, (data, markdown) in run["packets"].items():
        assert data["currency"] == "EUR", rep
        assert data["schema_version"] == "1.2"
        assert "€" in markdown, rep
    # The metric dictionary the packets link to is published with them.
    assert (run["week_dir"] / "metrics.md").is_file()


def test_metrics_match_and_emails_are_not_logged(run):
    oracle = run["oracle"]
    assert oracle.activity_not_logged == ["emails"]  # the org keeps no email Task
    for rep, (data, markdown) in run["packets"].items():
        assert data["activity_not_logged"] == oracle.activity_not_logged, rep
        for name in METRICS:
            for stat in ("this_week", "prior_week", "avg_4w", "team_median"):
                _cent(
                    data["metrics"][name][stat],
                    oracle.metrics[rep][name][stat],
                    f"{rep} {name} {stat}",
                )
        assert "The org does not log emails in Salesforce" in markdown, rep
        assert all(q["metric"] != "emails" for q in data["questions"]), rep


def test_quota_in_the_fiscal_quarter_matches(run):
    oracle = run["oracle"]
    assert oracle.quarter["quarter_label"] == "FY2027 Q4"  # Nov 2026 - Jan 2027
    quotas = 0
    for rep, (data, _) in run["packets"].items():
        want = oracle.quota[rep]
        if want is None:
            assert data["quota"] is None, (rep, oracle.quota_missing_reason[rep])
            continue
        quotas += 1
        quota = data["quota"]
        assert quota["quarter_label"] == want["quarter_label"], rep
        assert quota["quarter_start"] == want["quarter_start"].isoformat(), rep
        assert quota["quarter_end"] == want["quarter_end"].isoformat(), rep
        for key in ("amount", "won_to_date", "open_pipeline"):
            _cent(quota[key], want[key], f"{rep} quota {key}")
        for key in ("attainment", "elapsed", "pacing", "coverage"):
            _cent(quota[key], want[key], f"{rep} quota {key}")
        assert (
            data["performance_conversation_recommended"]
            == oracle.performance_conversation_recommended[rep]
        ), rep
    assert quotas > 0


def test_deals_match_with_both_amounts(run):
    oracle = run["oracle"]
    other_currency = 0
    for rep, (data, markdown) in run["packets"].items():
        want_deals = {i: d for i, d in oracle.deals.items() if d["rep_id"] == rep}
        assert {d["opportunity_id"] for d in data["deals"]} == set(want_deals), rep
        for deal in data["deals"]:
            want = want_deals[deal["opportunity_id"]]
            where = f"{rep} {deal['opportunity_id']}"
            for key in (
                "movement",
                "stage_start",
                "stage_end",
                "days_in_stage",
                "is_stuck",
                "close_date_pushes_90d",
                "currency_original",
                "forecast_category",
                "record_type",
            ):
                assert deal[key] == want[key], f"{where} {key}"
            assert sorted(deal["stuck_reasons"]) == sorted(want["stuck_reasons"]), where
            _cent(deal["amount"], want["amount"], f"{where} amount")
            _cent(deal["amount_original"], want["amount_original"], f"{where} amount_original")
            assert deal["record_type"] != "Renewal", where
        # Moved deals in another currency show both amounts in the deal table: `… € (… $)`.
        shown = [
            d
            for d in data["deals"]
            if d["movement"] != "unchanged"
            and d["currency_original"] != "EUR"
            and d["amount_original"] is not None
        ]
        table = markdown.split("### Deal movement")[1].split("###")[0]
        both = [row for row in table.splitlines() if "\xa0€ (" in row or "— (" in row]
        assert len(both) == len(shown), rep
        other_currency += len(shown)
        fast = {i for i in oracle.fast_movers if oracle.deals[i]["rep_id"] == rep}
        assert {f["opportunity_id"] for f in data["fast_movers"]} == fast, rep
    assert other_currency > 0  # the org really has deals in other currencies to show


def test_amounts_without_a_rate_are_listed_not_summed(run):
    oracle = run["oracle"]
    expected = {(u["rep_id"], u["opportunity_id"], u["number"]) for u in oracle.unconverted_amounts}
    listed = set()
    quota_rows = set()
    for rep, (data, _) in run["packets"].items():
        for item in data["data_quality"]["unconverted_amounts"]:
            if item["object"] == "ForecastingQuota":
                quota_rows.add((rep, item["record_id"]))
                continue
            assert item["currency"] == "CHF", item
            listed.update((rep, item["record_id"], number) for number in item["numbers"])
    assert listed == expected
    assert quota_rows == {
        (rep, row["quota_id"])
        for rep, rows in oracle.quota_rows_without_rate.items()
        for row in rows
    }
    assert expected or quota_rows  # the currency without a rate is really used
