"""The warehouse on a real company's org (issue 11), every number computed by hand in
intl_org.py: amounts in the corporate currency at dated and static rates, amounts without a
rate left out and listed, fiscal quarters from Organization.FiscalYearStartMonth and from
custom Period quarters, monthly quotas summed over the quarter, Omitted deals out of the
pipeline, the forecast category as of week_end, emails the org does not log, and record types
included or excluded everywhere."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from salesprep.config import RecordTypeRules, Settings
from salesprep.warehouse import BuildResult, build_warehouse

from .intl_org import REP, REP2, WEEK, opp, org_to_raw, write_intl_org

APPROX = {"rel": 1e-12, "abs": 1e-9}


@dataclass(frozen=True)
class IntlWarehouse:
    settings: Settings
    result: BuildResult

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with duckdb.connect(str(self.settings.build_warehouse_path), read_only=True) as con:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: list | None = None) -> dict:
        (row,) = self.rows(sql, params)
        return row


def _build(root: Path, select: str | None = None, **settings) -> IntlWarehouse:
    org_dir = write_intl_org(root / "org", custom_quarters=settings.pop("custom", False))
    # The warehouse tests' builds run dbt's unit tests too (decision 15), unless told not to.
    config = Settings(data_dir=root, **{"dbt_unit_tests": True, **settings})
    org_to_raw(org_dir, config.raw_root)
    return IntlWarehouse(config, build_warehouse(config, WEEK, select=select))


@pytest.fixture(scope="module")
def intl(tmp_path_factory: pytest.TempPathFactory) -> IntlWarehouse:
    """The whole project, renewals excluded by config."""
    root = tmp_path_factory.mktemp("intl")
    return _build(root, record_types=RecordTypeRules(exclude=["Renewal"]))


def test_the_build_passes_with_unit_tests(intl: IntlWarehouse) -> None:
    assert intl.result.success
    assert "unit_test" in {n.resource_type for n in intl.result.nodes}


def test_the_organization_and_its_fiscal_quarter(intl: IntlWarehouse) -> None:
    org = intl.one("select * from dim_organization")
    assert org["corporate_currency"] == "USD" and org["is_multi_currency"]
    assert (org["fiscal_year_start_month"], org["fiscal_year_start_month_source"]) == (
        2,
        "organization",
    )
    assert org["default_locale"] == "de_DE_EURO"
    week = intl.one(
        "select quarter_start, quarter_end, quarter_label from intermediate.int_weeks_enumerated "
        "where week = ?",
        [WEEK.label],
    )
    # February start, named after the year the fiscal year ends in.
    assert week == {
        "quarter_start": date(2026, 2, 1),
        "quarter_end": date(2026, 5, 1),
        "quarter_label": "FY2027 Q1",
    }


def test_activity_metrics_in_the_corporate_currency(intl: IntlWarehouse) -> None:
    row = intl.one(
        "select * from fct_rep_activity_weekly where rep_id = ? and week = ?", [REP, WEEK.label]
    )
    assert row["calls"] == 3 and row["meetings"] == 0
    assert row["emails"] is None  # the org has no email Task at all: not logged, never 0
    assert (row["is_calls_logged"], row["is_emails_logged"], row["is_meetings_logged"]) == (
        True,
        False,
        True,
    )
    # Deal 1 (1,000 EUR at the dated 1.25 of its CloseDate); renewal 9 is excluded.
    assert row["opportunities_created"] == 1
    assert row["pipeline_created"] == pytest.approx(800.0, **APPROX)
    # Deals 2 (1,000 GBP at 0.5) and 4 (JPY, no rate: counted, adds nothing); renewal 8 out.
    assert row["closed_won_count"] == 2
    assert row["closed_won_amount"] == pytest.approx(2000.0, **APPROX)
    assert row["closed_won_amount_unconverted"] == 1


def test_emails_are_null_in_all_four_fields(intl: IntlWarehouse) -> None:
    rows = intl.rows(
        "select * from rpt_pair_metrics_weekly where week = ? and metric = 'emails'",
        [WEEK.label],
    )
    assert len(rows) == 2
    for row in rows:
        assert not row["is_logged"]
        assert [row[k] for k in ("this_week", "prior_week", "avg_4w", "team_median")] == [None] * 4
    calls = intl.one(
        "select * from rpt_pair_metrics_weekly where week = ? and metric = 'calls' and rep_id = ?",
        [WEEK.label, REP],
    )
    assert calls["is_logged"] and calls["this_week"] == 3


def test_quota_from_monthly_rows_at_static_rates(intl: IntlWarehouse) -> None:
    row = intl.one(
        "select * from fct_rep_quota_weekly where rep_id = ? and week = ?", [REP, WEEK.label]
    )
    assert (row["quarter_start"], row["quarter_end"], row["quarter_label"]) == (
        date(2026, 2, 1),
        date(2026, 5, 1),
        "FY2027 Q1",
    )
    # 10,000 USD + 9,000 EUR / 0.5 + 4,000 GBP / 0.5; January and May rows are other quarters.
    assert row["quota_amount"] == pytest.approx(36000.0, **APPROX)
    assert (row["quota_rows"], row["quota_rows_without_rate"]) == (3, 0)
    # Won 2026-02-10 (1,000 EUR at 0.8) + 2026-03-04 (2,000 USD); the JPY win adds nothing.
    assert row["won_to_date"] == pytest.approx(3250.0, **APPROX)
    assert row["elapsed"] == pytest.approx(36 / 89, **APPROX)
    assert row["pacing"] == pytest.approx(3250 / 36000 / (36 / 89), **APPROX)
    # Deal 1 (800) + deal 6 as of week_end (2,000 GBP on its row = 4,000); deal 5 is Omitted,
    # deal 7's CHF has no rate.
    assert row["open_pipeline"] == pytest.approx(4800.0, **APPROX)
    assert row["coverage"] == pytest.approx(4800 / (36000 - 3250), **APPROX)


def test_a_quota_row_without_a_rate_makes_no_quota(intl: IntlWarehouse) -> None:
    row = intl.one(
        "select * from fct_rep_quota_weekly where rep_id = ? and week = ?", [REP2, WEEK.label]
    )
    assert row["quota_amount"] is None and row["attainment"] is None
    assert (row["quota_rows"], row["quota_rows_without_rate"]) == (2, 1)
    assert not row["performance_conversation_recommended"]


def test_deals_carry_both_amounts_forecast_category_and_record_type(intl: IntlWarehouse) -> None:
    deals = {
        d["opportunity_id"]: d
        for d in intl.rows(
            "select * from fct_deal_movement_weekly where week = ? order by opportunity_id",
            [WEEK.label],
        )
    }
    # The renewals are not there at all; deal 3 closed before the week.
    assert set(deals) == {opp(n) for n in (1, 2, 4, 5, 6, 7)}
    expected = {
        opp(1): ("new", 800.0, 1000.0, "EUR", "Pipeline", "New Business"),
        opp(2): ("won", 2000.0, 1000.0, "GBP", "Closed", None),
        opp(4): ("won", None, 100000.0, "JPY", "Closed", "New Business"),
        opp(5): ("unchanged", 500.0, 500.0, "USD", "Omitted", "New Business"),
        opp(6): ("advanced", 4000.0, 2000.0, "GBP", "Commit", "New Business"),
        opp(7): ("unchanged", None, 700.0, "CHF", "Pipeline", "New Business"),
    }
    for oid, (movement, amount, original, currency, forecast, record_type) in expected.items():
        deal = deals[oid]
        assert deal["movement"] == movement, oid
        assert deal["amount"] == (pytest.approx(amount, **APPROX) if amount else None), oid
        assert (deal["amount_original"], deal["currency_original"]) == (original, currency), oid
        assert (deal["forecast_category"], deal["record_type"]) == (forecast, record_type), oid
    # The no_activity rule still runs (calls and meetings are logged): only deal 1 has activity.
    assert deals[opp(6)]["is_no_activity"] is True
    assert deals[opp(1)]["is_no_activity"] is False


def test_the_as_of_state_of_an_earlier_week(intl: IntlWarehouse) -> None:
    """As of 2026-03-02 deal 6's only row closes 2026-02-27 (EUR 0.8) with the API value
    BestCase, shown as the label."""
    state = intl.one(
        "select * from intermediate.int_opportunity_states_sampled_weekly "
        "where opportunity_id = ? and week = '2026-W09'",
        [opp(6)],
    )
    assert state["amount_end"] == pytest.approx(2500.0, **APPROX)
    assert (state["currency_iso_code_end"], state["forecast_category_end"]) == ("EUR", "Best Case")
    snapshot = intl.one(
        "select * from fct_opportunity_snapshots_weekly where opportunity_id = ? and week = ?",
        [opp(6), WEEK.label],
    )
    assert (snapshot["amount_original"], snapshot["currency_iso_code"]) == (2000.0, "GBP")
    assert snapshot["forecast_category"] == "Commit"


def test_unconverted_amounts_are_listed_per_number(intl: IntlWarehouse) -> None:
    rows = intl.rows(
        "select rep_id, amount_kind, record_id, currency_iso_code, amount_original, rate_date "
        "from fct_unconverted_amounts_weekly where week = ? order by rep_id, amount_kind, "
        "record_id",
        [WEEK.label],
    )
    keys = ("rep_id", "amount_kind", "record_id", "currency_iso_code")
    assert [tuple(r[k] for k in keys) for r in rows] == [
        (REP, "closed_won_amount", opp(4), "JPY"),
        (REP, "deal_amount", opp(4), "JPY"),
        (REP, "deal_amount", opp(7), "CHF"),
        (REP, "open_pipeline", opp(7), "CHF"),
        (REP, "won_to_date", opp(4), "JPY"),
        (REP2, "quota_amount", "0J9000000000000Q07", "JPY"),
    ]
    assert rows[0]["rate_date"] == date(2026, 3, 5)
    assert rows[-1]["rate_date"] is None


def test_the_pipeline_waterfall_leaves_omitted_deals_out(intl: IntlWarehouse) -> None:
    row = intl.one(
        "select * from fct_pipeline_waterfall_weekly where rep_id = ? and week = ?",
        [REP, WEEK.label],
    )
    assert row["quarter_label"] == "FY2027 Q1"
    # At week_end: deals 1 (800) and 6 (4,000); 5 is Omitted, 7 has no rate (counts 0).
    assert row["ending_pipeline"] == pytest.approx(4800.0, **APPROX)


def test_record_type_include_keeps_only_the_listed_types(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("intl-include")
    built = _build(
        root,
        select="+fct_rep_quota_weekly +fct_rep_activity_weekly",
        dbt_unit_tests=False,
        record_types=RecordTypeRules(include=["New_Business"]),
    )
    activity = built.one(
        "select * from fct_rep_activity_weekly where rep_id = ? and week = ?", [REP, WEEK.label]
    )
    # Deal 2 has no record type: with an include list it is left out.
    assert (activity["closed_won_count"], activity["closed_won_amount"]) == (1, 0.0)
    quota = built.one(
        "select * from fct_rep_quota_weekly where rep_id = ? and week = ?", [REP, WEEK.label]
    )
    assert quota["won_to_date"] == pytest.approx(1250.0, **APPROX)


def test_custom_period_quarters_win_over_the_start_month(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A Period quarter 2026-02-08..2026-05-09 of the custom year `2026` covers W10's Sunday;
    config's start month (January) cannot override it. Quota rows starting in it count: the
    March, April and May rows."""
    root = tmp_path_factory.mktemp("intl-periods")
    built = _build(
        root,
        select="+fct_rep_quota_weekly",
        dbt_unit_tests=False,
        custom=True,
        fiscal_year_start_month=1,
        record_types=RecordTypeRules(exclude=["Renewal"]),
    )
    quota = built.one(
        "select * from fct_rep_quota_weekly where rep_id = ? and week = ?", [REP, WEEK.label]
    )
    assert (quota["quarter_start"], quota["quarter_end"], quota["quarter_label"]) == (
        date(2026, 2, 8),
        date(2026, 5, 10),
        "FY2026 Q1",
    )
    assert quota["quota_amount"] == pytest.approx(18000.0 + 8000.0 + 99999.0, **APPROX)
    assert quota["elapsed"] == pytest.approx(29 / 91, **APPROX)
    # A week before the custom year (W05, Sunday 2026-02-01) falls back to config's January
    # start: calendar Q1.
    early = built.one(
        "select quarter_start, quarter_label from intermediate.int_weeks_enumerated "
        "where week = '2026-W05'"
    )
    assert early == {"quarter_start": date(2026, 1, 1), "quarter_label": "FY2026 Q1"}


def test_every_number_agrees_with_the_oracle(intl: IntlWarehouse) -> None:
    """The independent recomputation (tests/oracle) of every week of the org, to the cent."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/oracle
    from oracle.metrics import load_org, recompute_week

    org = load_org(intl.settings.data_dir / "org", rules={"record_types": {"exclude": ["Renewal"]}})
    weeks = [r["week"] for r in intl.rows("select week from intermediate.int_weeks_enumerated")]
    assert len(weeks) >= 7
    for label in weeks:
        oracle = recompute_week(org, label)
        metrics = {
            (r["rep_id"], r["metric"]): r
            for r in intl.rows("select * from rpt_pair_metrics_weekly where week = ?", [label])
        }
        for rep, values in oracle.metrics.items():
            for name, stats in values.items():
                row = metrics[(rep, name)]
                for stat, want in stats.items():
                    got = row[stat]
                    assert (got is None) == (want is None), (label, rep, name, stat)
                    if want is not None:
                        assert got == pytest.approx(want, abs=0.005), (label, rep, name, stat)
        quotas = {
            r["rep_id"]: r
            for r in intl.rows("select * from fct_rep_quota_weekly where week = ?", [label])
        }
        for rep, want in oracle.quota.items():
            row = quotas[rep]
            if want is None:
                assert row["quota_amount"] is None, (label, rep)
                continue
            assert row["quarter_label"] == want["quarter_label"], (label, rep)
            for key, column in (
                ("amount", "quota_amount"),
                ("won_to_date", "won_to_date"),
                ("open_pipeline", "open_pipeline"),
                ("pacing", "pacing"),
            ):
                assert row[column] == pytest.approx(want[key], abs=0.005), (label, rep, key)
        deals = {
            d["opportunity_id"]: d
            for d in intl.rows("select * from fct_deal_movement_weekly where week = ?", [label])
        }
        assert set(deals) == set(oracle.deals), label
        for oid, want in oracle.deals.items():
            got = deals[oid]
            for key in ("movement", "amount_original", "currency_original", "forecast_category"):
                assert got[key] == want[key], (label, oid, key)
            assert (got["amount"] is None) == (want["amount"] is None), (label, oid)
            if want["amount"] is not None:
                assert got["amount"] == pytest.approx(want["amount"], abs=0.005), (label, oid)
            assert got["is_no_activity"] == want["no_activity"], (label, oid)
        listed = {
            (r["rep_id"], r["record_id"], r["amount_kind"])
            for r in intl.rows(
                "select * from fct_unconverted_amounts_weekly where week = ? "
                "and source_object = 'Opportunity'",
                [label],
            )
        }
        assert listed == {
            (u["rep_id"], u["opportunity_id"], u["number"]) for u in oracle.unconverted_amounts
        }, label


_POSTGRES_COMPARED = {
    "dim_organization": "corporate_currency",
    "fct_rep_activity_weekly": "rep_id, week",
    "rpt_pair_metrics_weekly": "pair_id, week, metric",
    "fct_rep_quota_weekly": "rep_id, week",
    "fct_deal_movement_weekly": "opportunity_id, week",
    "fct_pipeline_waterfall_weekly": "rep_week_key",
    "fct_unconverted_amounts_weekly": "unconverted_amount_key",
}


def test_postgres_gives_the_same_international_marts(
    intl: IntlWarehouse,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The currency, calendar and activity rules on Postgres: the same rows as DuckDB."""
    psycopg = pytest.importorskip("psycopg")
    from salesprep.config import load_settings
    from salesprep.warehouse.postgres import RawLoadError, conninfo, ensure_database

    database = f"salesprep_test_intl_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("SALESPREP_DBT_POSTGRES_DATABASE", database)
    target = load_settings().postgres
    try:
        ensure_database(target)
    except RawLoadError as exc:
        pytest.skip(f"Postgres at {target.host}:{target.port} is not usable: {exc}")
    try:
        _build(
            tmp_path_factory.mktemp("intl-postgres"),
            select=" ".join(f"+{mart}" for mart in _POSTGRES_COMPARED),
            dbt_target="postgres",
            dbt_unit_tests=False,
            record_types=RecordTypeRules(exclude=["Renewal"]),
        )
        with psycopg.connect(conninfo(target)) as pg:
            for mart, key in _POSTGRES_COMPARED.items():
                expected = intl.rows(f"select * from main.{mart} order by {key}")
                got = pg.execute(
                    f"select * from {target.build_schema}.{mart} order by {key}"
                ).fetchall()
                assert expected, mart
                assert len(got) == len(expected), mart
                for want, row in zip(expected, got, strict=True):
                    for value, other in zip(want.values(), row, strict=True):
                        if isinstance(value, float) and other is not None:
                            assert float(other) == pytest.approx(value, **APPROX), mart
                        else:
                            assert other == value, (mart, want)
    finally:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as pg:
            pg.execute(f'drop database if exists "{database}" with (force)')


def test_snapshots_written_before_the_currency_columns_still_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A build file from before issue 11: its snapshots lack amount_original, currency_iso_code
    and forecast_category. The next run appends the columns (null in the old rows, read as the
    record's own amount) instead of failing, and never rebuilds what earlier runs kept."""
    root = tmp_path_factory.mktemp("intl-old-snapshots")
    select = "+fct_opportunity_snapshots_weekly"
    earlier = _build(root, select=select, dbt_unit_tests=False)
    path = str(earlier.settings.build_warehouse_path)
    with duckdb.connect(path) as con:
        for column in ("amount_original", "currency_iso_code", "forecast_category"):
            con.execute(f"alter table main.fct_opportunity_snapshots_weekly drop column {column}")
        kept = con.execute(
            "select count(*) from main.fct_opportunity_snapshots_weekly where week < '2026-W06'"
        ).fetchone()[0]
    assert kept > 0
    result = build_warehouse(earlier.settings, WEEK, select=select)
    assert result.success
    old = earlier.rows(
        "select amount_original, currency_iso_code from fct_opportunity_snapshots_weekly "
        "where week < '2026-W06'"
    )
    assert len(old) == kept
    assert all(r == {"amount_original": None, "currency_iso_code": None} for r in old)
    new = earlier.rows(
        "select week, amount_original, currency_iso_code, forecast_category "
        "from fct_opportunity_snapshots_weekly where opportunity_id = ? and week = ?",
        [opp(6), WEEK.label],
    )
    assert new == [
        {"week": WEEK.label, "amount_original": 2000.0, "currency_iso_code": "GBP",
         "forecast_category": "Commit"}
    ]  # fmt: skip
