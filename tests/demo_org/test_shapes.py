"""Org shapes: a real company's org has currencies with dated rates, a fiscal calendar, monthly
quotas, record types, forecast categories, activity it does not log and archived activities.
Each check reads the CSVs back; the default shape must stay byte for byte the org it was."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from salesprep.catalog import objects_for
from salesprep.demo_org import INTERNATIONAL, DemoOrgError, OrgShape, generate_org
from salesprep.demo_org.shape import USD_RATES
from salesprep.demo_org.vocabulary import FORECAST_CATEGORY_API
from salesprep.org_folder import parse_datetime
from salesprep.weeks import Week

from .conftest import ARGS, END_WEEK, Org

# sha256 of every file of the default org of ARGS, as the generator wrote it before org shapes
# existed (only Organization.csv was new then). A change here changes every earlier test's
# data: make it only on purpose, and say so in the commit.
DEFAULT_ORG_SHA256 = {
    "Account.csv": "c0fc641153961efec862d71c24026542e60dc5ac7357b6665daac5ed6b832fcc",
    "Contact.csv": "b002c93cec164368cf47eb784b685507a04431b62241ef6e3a7bb19f9c0df511",
    "Event.csv": "3d272f35907dea5738d528eaaae614f222c984d5439ee52d24f0e60e41928b14",
    "ForecastingQuota.csv": "f06ff306ce4190d6d3df3c53262282e973f2e5ec9d1129902208e18c7aed812e",
    "Opportunity.csv": "5b36dba420a681bbaf7330e04b7958478eec7dbca9ec17c52f19bd0a1304dd13",
    "OpportunityContactRole.csv": (
        "bc485f4e88229088e412a36a2318aa12e4ed39fe3eb23ea7ab7688e261ffec27"
    ),
    "OpportunityFieldHistory.csv": (
        "74eed68650a830c6d5754ba468ee8013d85b3f1d900958a88b70f5b26006108b"
    ),
    "OpportunityHistory.csv": "76722f1e918097f3f616c579d346ec26fd084e82f474f3335dc0975e61f4d787",
    "OpportunityStage.csv": "a29f728f5d89b45a038e5f691df41670c7cde3a9adff890caa65f3034d2fce39",
    "Organization.csv": "3b99c3cef77dac52d11ad0f64b7e748aa7e87b278c8f615c572498085dca93b8",
    "Profile.csv": "f84057148d241a7690b0f03ab80f4d19b3adfa763770bbcf1075210f65cce2ac",
    "Task.csv": "412d7fe15e44f3bde2148a6c2b44965c891a97516def3562f0078a78ebf98ac5",
    "User.csv": "ff7d24111bb9edaffafb8676e250b6939357111e0bf352ea51e81a0269f57c50",
    "UserRole.csv": "894874ad14d1c67aa4e5af355290569f853b4e898375e812002b22e4ad98a624",
}
LABEL_OF_API = {api: label for label, api in FORECAST_CATEGORY_API.items()}


def _history(org: Org) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in org.rows("OpportunityHistory"):
        grouped[row["OpportunityId"]].append(row)
    for rows in grouped.values():
        rows.sort(key=lambda r: (r["CreatedDate"], r["Id"]))
    return grouped


def test_the_default_shape_writes_the_org_it_always_wrote(org: Org) -> None:
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in org.path.iterdir()}
    assert digests == DEFAULT_ORG_SHA256
    assert org.summary.shape == OrgShape() and org.summary.shape.features == frozenset()


def test_shaped_orgs_have_the_objects_and_fields_of_their_features(
    international: Org, custom_calendar: Org
) -> None:
    assert international.summary.shape.features == {
        "multi_currency",
        "advanced_currency_management",
        "record_types",
    }
    assert custom_calendar.summary.shape.features == {"multi_currency", "custom_fiscal_year"}
    for org in (international, custom_calendar):
        features = org.summary.shape.features
        names = sorted(p.name for p in org.path.iterdir())
        assert names == sorted(f"{o.name}.csv" for o in objects_for(features))
        for sobject in objects_for(features):
            header = list(org.rows(sobject.name)[0]) if org.rows(sobject.name) else None
            if header is not None:
                assert header == [f.name for f in sobject.fields_for(features)], sobject.name
    (organization,) = international.rows("Organization")
    assert organization["Id"] == international.summary.org_id
    assert (organization["FiscalYearStartMonth"], organization["DefaultLocaleSidKey"]) == (
        "2",
        "de_DE",
    )
    assert organization["UsesStartDateAsFiscalYearName"] == "false"
    assert custom_calendar.rows("Organization")[0]["UsesStartDateAsFiscalYearName"] == "true"


def test_currencies_have_one_corporate_and_static_rates(international: Org) -> None:
    currencies = {c["IsoCode"]: c for c in international.rows("CurrencyType")}
    assert list(currencies) == ["EUR", "USD", "GBP", "JPY"]
    assert [c for c, row in currencies.items() if row["IsCorporate"] == "true"] == ["EUR"]
    assert currencies["EUR"]["ConversionRate"] == "1"
    for code, row in currencies.items():
        expected = USD_RATES[code] / USD_RATES["EUR"]
        assert float(row["ConversionRate"]) == pytest.approx(expected, rel=1e-6), code
    assert currencies["JPY"]["DecimalPlaces"] == "0"


def test_dated_rates_cover_every_date_once_and_move_month_to_month(international: Org) -> None:
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in international.rows("DatedConversionRate"):
        by_code[row["IsoCode"]].append(row)
    assert set(by_code) == {"EUR", "USD", "GBP", "JPY"}
    static = {c["IsoCode"]: float(c["ConversionRate"]) for c in international.rows("CurrencyType")}
    for code, rows in by_code.items():
        rows.sort(key=lambda r: r["StartDate"])
        assert rows[0]["StartDate"] == "0001-01-01" and rows[-1]["NextStartDate"] == "9999-12-31"
        for before, after in itertools.pairwise(rows):
            assert before["NextStartDate"] == after["StartDate"], code  # no gap, no overlap
        starts = [date.fromisoformat(r["StartDate"]) for r in rows[1:]]
        assert all(s.day == 1 for s in starts) and len(starts) >= 6
        rates = [float(r["ConversionRate"]) for r in rows]
        if code == "EUR":
            assert set(rates) == {1.0}
        else:
            assert len(set(rates)) == len(rates)  # a new rate every month
            assert all(abs(r / static[code] - 1) < 0.2 for r in rates), code
            moves = [abs(b / a - 1) for a, b in itertools.pairwise(rates)]
            assert max(moves) < 0.08 and sum(moves) > 0


def test_deals_history_and_quotas_come_in_varied_currencies(international: Org) -> None:
    opportunities = international.rows("Opportunity")
    deals = Counter(o["CurrencyIsoCode"] for o in opportunities)
    assert set(deals) == {"EUR", "USD", "GBP", "JPY", "CHF"} and min(deals.values()) >= 10
    history = _history(international)
    codes = Counter(h["CurrencyIsoCode"] for rows in history.values() for h in rows)
    assert set(codes) == {"EUR", "USD", "GBP", "JPY", "CHF", ""}  # a few rows carry no code
    switched = 0
    for opp in opportunities:
        rows = history[opp["Id"]]
        coded = [r["CurrencyIsoCode"] for r in rows if r["CurrencyIsoCode"]]
        if coded:
            assert coded[-1] == opp["CurrencyIsoCode"]
            # A deal entered in the corporate currency and set to its own later.
            if set(coded) != {opp["CurrencyIsoCode"]}:
                switched += 1
                assert coded[0] == "EUR" and sorted(set(coded)) == sorted({"EUR", coded[-1]})
        last = rows[-1]
        for column in ("StageName", "Amount", "CloseDate", "Probability"):
            assert opp[column] == last[column], (opp["Id"], column)
    assert switched >= 3
    # Amounts look typed in their own currency: JPY deals are in the millions.
    jpy = [
        float(o["Amount"]) for o in opportunities if o["CurrencyIsoCode"] == "JPY" and o["Amount"]
    ]
    assert min(jpy) > 100_000
    quotas = Counter(q["CurrencyIsoCode"] for q in international.rows("ForecastingQuota"))
    assert len(quotas) >= 3 and "" not in quotas


def test_a_currency_without_a_rate_is_used_but_has_no_rate(international: Org) -> None:
    rep = international.summary.edge_cases["rep_in_currency_without_rate"]
    assert "CHF" not in {c["IsoCode"] for c in international.rows("CurrencyType")}
    assert "CHF" not in {r["IsoCode"] for r in international.rows("DatedConversionRate")}
    quotas = [q for q in international.rows("ForecastingQuota") if q["QuotaOwnerId"] == rep]
    assert quotas and {q["CurrencyIsoCode"] for q in quotas} == {"CHF"}
    own = [o for o in international.rows("Opportunity") if o["OwnerId"] == rep]
    assert Counter(o["CurrencyIsoCode"] for o in own).most_common(1)[0][0] == "CHF"
    managers = {u["Id"]: u for u in international.rows("User")}
    manager = managers[managers[rep]["ManagerId"]]
    assert manager["IsActive"] == "true"  # the rep has a packet that shows it


def test_monthly_quotas_follow_the_fiscal_months_and_sum_to_round_quarters(
    international: Org,
) -> None:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for quota in international.rows("ForecastingQuota"):
        rows[quota["QuotaOwnerId"]].append(quota)
    assert rows
    for owner, quotas in rows.items():
        quotas.sort(key=lambda q: q["StartDate"])
        assert len(quotas) % 3 == 0, owner
        for triple in (quotas[i : i + 3] for i in range(0, len(quotas), 3)):
            months = [date.fromisoformat(q["StartDate"]) for q in triple]
            # A February fiscal year: quarters start in Feb, May, Aug, Nov.
            assert months[0].month in (2, 5, 8, 11) and all(m.day == 1 for m in months)
            assert [m.month for m in months] == [
                (months[0].month + i - 1) % 12 + 1 for i in range(3)
            ]
            amounts = [float(q["QuotaAmount"]) for q in triple]
            assert max(amounts) - min(amounts) <= 2_000, amounts
            assert len({q["CurrencyIsoCode"] for q in triple}) == 1


def test_an_org_that_keeps_emails_elsewhere_has_no_email_tasks(international: Org) -> None:
    kinds = Counter(t["Type"] for t in international.rows("Task"))
    assert kinds["Email"] == 0
    assert kinds["Call"] > 1000 and international.rows("Event")


def test_an_org_that_does_not_log_meetings_has_no_events(custom_calendar: Org) -> None:
    assert custom_calendar.rows("Event") == []
    assert Counter(t["Type"] for t in custom_calendar.rows("Task"))["Email"] > 1000


def test_record_types_follow_the_opportunity_type(international: Org) -> None:
    record_types = {r["Id"]: r for r in international.rows("RecordType")}
    assert {r["DeveloperName"] for r in record_types.values()} == {
        "New_Business",
        "Renewal",
        "Expansion",
        "Legacy_Deal",
    }
    used = Counter()
    for opp in international.rows("Opportunity"):
        if not opp["RecordTypeId"]:
            used[None] += 1
            continue
        record_type = record_types[opp["RecordTypeId"]]
        assert record_type["IsActive"] == "true" and record_type["SobjectType"] == "Opportunity"
        used[record_type["DeveloperName"]] += 1
        if opp["Type"] == "Existing Customer - Renewal":
            assert record_type["DeveloperName"] == "Renewal"
        elif opp["Type"] == "New Business":
            assert record_type["DeveloperName"] == "New_Business"
    assert used["New_Business"] > used["Expansion"] > used["Renewal"] > 0
    assert 0 < used[None] < 0.1 * sum(used.values())  # migrated deals from before record types


def test_forecast_categories_are_overridden_and_some_open_deals_omitted(
    international: Org,
) -> None:
    history = _history(international)
    open_categories = Counter(
        o["ForecastCategoryName"]
        for o in international.rows("Opportunity")
        if o["IsClosed"] == "false"
    )
    assert {"Pipeline", "Best Case", "Commit", "Omitted"} <= set(open_categories)
    assert open_categories["Omitted"] >= 5
    api = Counter(h["ForecastCategory"] for rows in history.values() for h in rows)
    assert {"Pipeline", "BestCase", "Forecast", "Omitted", "Closed"} == set(api)
    for opp in international.rows("Opportunity"):
        last = history[opp["Id"]][-1]
        assert LABEL_OF_API[last["ForecastCategory"]] == opp["ForecastCategoryName"], opp["Id"]
        if opp["IsClosed"] == "true":
            expected = "Closed" if opp["IsWon"] == "true" else "Omitted"
            assert opp["ForecastCategoryName"] == expected


def test_custom_fiscal_years_have_445_quarters_that_quotas_follow(custom_calendar: Org) -> None:
    years = {y["Id"]: y for y in custom_calendar.rows("FiscalYearSettings")}
    periods = custom_calendar.rows("Period")
    quarters = sorted((p for p in periods if p["Type"] == "Quarter"), key=lambda p: p["StartDate"])
    months = sorted((p for p in periods if p["Type"] == "Month"), key=lambda p: p["StartDate"])
    for kind in (quarters, months):
        for before, after in itertools.pairwise(kind):
            end = date.fromisoformat(before["EndDate"])
            assert end + timedelta(days=1) == date.fromisoformat(after["StartDate"])
    for quarter in quarters:
        start, end = (date.fromisoformat(quarter[k]) for k in ("StartDate", "EndDate"))
        assert start.weekday() == 6 and (end - start).days + 1 in (91, 98)  # Sundays, 13 weeks
        year = years[quarter["FiscalYearSettingsId"]]
        # Named by the calendar year the fiscal year starts in.
        assert year["Name"] == year["StartDate"][:4]
        inside = [m for m in months if quarter["StartDate"] <= m["StartDate"] <= quarter["EndDate"]]
        weeks = [
            ((date.fromisoformat(m["EndDate"]) - date.fromisoformat(m["StartDate"])).days + 1) // 7
            for m in inside
        ]
        assert weeks[:2] == [4, 4] and weeks[2] in (5, 6)
    assert any(q["StartDate"][5:] not in ("02-01", "05-01", "08-01", "11-01") for q in quarters)
    window_end = END_WEEK.last_day.isoformat()
    assert quarters[-1]["EndDate"] > window_end  # open deals close in covered quarters
    month_starts = {m["StartDate"] for m in months}
    quotas = custom_calendar.rows("ForecastingQuota")
    assert quotas and all(q["StartDate"] in month_starts for q in quotas)


def test_activities_older_than_a_year_are_archived(custom_calendar: Org) -> None:
    export = parse_datetime(END_WEEK.end(tz="UTC").isoformat())
    cutoff = (export - timedelta(days=365)).date().isoformat()
    archived = 0
    for task in custom_calendar.rows("Task"):
        old = task["IsClosed"] == "true" and task["ActivityDate"] < cutoff
        assert task["IsArchived"] == ("true" if old else ""), task["Id"]
        archived += old
    assert archived > 1000


def test_the_same_shape_and_seed_give_the_same_bytes_and_shapes_are_other_orgs(
    tmp_path: Path,
) -> None:
    small = {"reps": 3, "managers": 1, "weeks": 6, "seed": 5, "end_week": Week.parse("2026-W20")}
    first = generate_org(tmp_path / "a", **small, shape=INTERNATIONAL)
    again = generate_org(tmp_path / "b", **small, shape=INTERNATIONAL)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    plain = generate_org(tmp_path / "c", **small)
    other_seed = generate_org(tmp_path / "d", **{**small, "seed": 6}, shape=INTERNATIONAL)
    assert len({first.org_id, plain.org_id, other_seed.org_id}) == 3
    assert first.org_id == again.org_id


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"currencies": ("USD",), "dated_rates": True}, "dated rates"),
        ({"currencies": ("USD", "XYZ")}, "XYZ"),
        ({"currencies": ("USD", "EUR"), "currency_without_rate": "EUR"}, "without a rate"),
        ({"currency_without_rate": "CHF"}, "multi-currency"),
        ({"fiscal_start_month": 13}, "1..12"),
        ({"locale": "xx_XX"}, "xx_XX"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_shapes_are_refused_before_anything_is_written(
    tmp_path: Path, options: dict[str, object], named: str
) -> None:
    out = tmp_path / "org"
    with pytest.raises(DemoOrgError, match=named):
        generate_org(out, **{**ARGS, "reps": 3, "managers": 1}, **options)
    assert not out.exists()
