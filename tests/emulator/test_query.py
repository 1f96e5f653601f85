"""query / queryAll through the real simple-salesforce client, checked against the CSV rows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesprep.emulator import EmulatorHandle

from .conftest import API_VERSION, OPPORTUNITY_COUNT, OrgFixture

SELECTED = ["Id", "Name", "Amount", "CloseDate", "IsWon", "CreatedDate", "Region__c"]


def _wire(value: Any) -> Any:
    """A Python value of the test org as Salesforce's JSON carries it."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    if value == "":
        return None
    return value


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["Id"] for r in records]


def _where(org: OrgFixture, predicate) -> list[str]:
    return [o["Id"] for o in org.live_opportunities() if predicate(o)]


def test_query_returns_salesforce_shaped_records(sf: Salesforce, org: OrgFixture) -> None:
    source = org.opportunities[1]
    result = sf.query(f"SELECT {', '.join(SELECTED)} FROM Opportunity WHERE Id = '{source['Id']}'")
    assert result["totalSize"] == 1 and result["done"] is True
    assert "nextRecordsUrl" not in result
    record = result["records"][0]
    assert list(record) == ["attributes", *SELECTED]
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v{API_VERSION}/sobjects/Opportunity/{source['Id']}",
    }
    for name in SELECTED:
        assert record[name] == _wire(source[name]), name
    assert isinstance(record["IsWon"], bool)


def test_field_names_come_back_in_their_api_case(sf: Salesforce, org: OrgFixture) -> None:
    record = sf.query("select id, isactive, CREATEDDATE from user where id = '005000000000000001'")[
        "records"
    ][0]
    assert list(record)[1:] == ["Id", "IsActive", "CreatedDate"]
    assert record["CreatedDate"] == "2025-06-01T12:00:00.123+0000"


def test_first_page_has_2000_records_and_a_next_records_url(
    sf: Salesforce, org: OrgFixture
) -> None:
    result = sf.query("SELECT Id FROM Opportunity")
    assert result["totalSize"] == len(org.live_opportunities())
    assert result["done"] is False
    assert len(result["records"]) == 2000
    assert result["nextRecordsUrl"].startswith(f"/services/data/v{API_VERSION}/query/01g")
    assert result["nextRecordsUrl"].endswith("-2000")
    second = sf.query_more(result["nextRecordsUrl"], identifier_is_url=True)
    assert _ids(second["records"]) == _ids(org.live_opportunities())[2000:4000]


def test_a_page_can_be_fetched_again(sf: Salesforce) -> None:
    first = sf.query("SELECT Id, Name FROM Opportunity ORDER BY Name")
    again = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    retried = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert again == retried


def test_query_all_pages_through_every_live_record(sf: Salesforce, org: OrgFixture) -> None:
    result = sf.query_all("SELECT Id, Amount FROM Opportunity")
    assert _ids(result["records"]) == _ids(org.live_opportunities())
    assert [r["Amount"] for r in result["records"]] == [
        o["Amount"] for o in org.live_opportunities()
    ]


def test_query_all_iter_yields_the_same_records(sf: Salesforce, org: OrgFixture) -> None:
    records = list(sf.query_all_iter("SELECT Id FROM Opportunity"))
    assert _ids(records) == _ids(org.live_opportunities())


def test_deleted_rows_only_come_from_query_all(sf: Salesforce, org: OrgFixture) -> None:
    everything = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert len(everything["records"]) == OPPORTUNITY_COUNT
    deleted = [r["Id"] for r in everything["records"] if r["IsDeleted"]]
    assert deleted == [o["Id"] for o in org.opportunities if o["IsDeleted"]]
    assert deleted  # the test org has deleted rows
    live = sf.query_all("SELECT Id FROM Opportunity WHERE IsDeleted = true")
    assert live["totalSize"] == 0


def test_query_all_next_records_url_stays_on_query_all(sf: Salesforce) -> None:
    first = sf.query("SELECT Id FROM Opportunity", include_deleted=True)
    assert first["totalSize"] == OPPORTUNITY_COUNT
    assert "/queryAll/" in first["nextRecordsUrl"]


@pytest.mark.parametrize(("requested", "served"), [(500, 500), (50, 200), (5000, 2000)])
def test_batch_size_header_sets_the_page_size(
    sf: Salesforce, org: OrgFixture, requested: int, served: int
) -> None:
    headers = {"Sforce-Query-Options": f"batchSize={requested}"}
    first = sf.query("SELECT Id FROM Opportunity", headers=headers)
    assert len(first["records"]) == served
    assert first["nextRecordsUrl"].endswith(f"-{served}")
    records = list(sf.query_all_iter("SELECT Id FROM Opportunity", headers=headers))
    assert _ids(records) == _ids(org.live_opportunities())


def test_api_usage_header_counts_every_call(sf: Salesforce, emulator: EmulatorHandle) -> None:
    sf.query("SELECT Id FROM User LIMIT 1")
    usage = sf.api_usage["api-usage"]
    assert usage.total == 15000
    assert usage.used == emulator.api_calls
    sf.query("SELECT Id FROM User LIMIT 1")
    assert sf.api_usage["api-usage"].used == usage.used + 1


# ------------------------------------------------------------------------------ WHERE

WHERE_CASES = [
    ("Amount > 60000", lambda o: o["Amount"] is not None and o["Amount"] > 60000),
    ("Amount <= 1000", lambda o: o["Amount"] is not None and o["Amount"] <= 1000),
    ("Amount = null", lambda o: o["Amount"] is None),
    ("Amount != null", lambda o: o["Amount"] is not None),
    ("Amount = 12500", lambda o: o["Amount"] == 12500),
    ("Amount >= -1 AND Amount < 250.5", lambda o: o["Amount"] in (0.0, 250.0)),
    # SOQL's != keeps nulls, unlike SQL's <>.
    ("Type != 'Renewal'", lambda o: o["Type"] != "Renewal"),
    ("Type <> 'Renewal'", lambda o: o["Type"] != "Renewal"),
    (
        "StageName IN ('Closed Won', 'closed lost')",
        lambda o: o["StageName"] in ("Closed Won", "Closed Lost"),
    ),
    ("LeadSource NOT IN ('Web')", lambda o: o["LeadSource"] != "Web"),
    ("LeadSource IN ('Web', null)", lambda o: o["LeadSource"] in ("Web", None)),
    ("Name = 'ACME deal 5'", lambda o: (o["Name"] or "").lower() == "acme deal 5"),
    ("Name LIKE 'acme%'", lambda o: (o["Name"] or "").lower().startswith("acme")),
    ("Name LIKE '%deal 1_'", lambda o: re.fullmatch(r"(?is).*deal 1.", o["Name"] or "")),
    ("Name LIKE 'O\\'Brien%'", lambda o: (o["Name"] or "").startswith("O'Brien")),
    ("Name = null", lambda o: o["Name"] is None),
    ("IsWon = TRUE", lambda o: o["IsWon"]),
    ("IsClosed = false AND IsWon = false", lambda o: not o["IsClosed"]),
    ("CloseDate >= 2026-03-01", lambda o: o["CloseDate"] >= date(2026, 3, 1)),
    ("CloseDate = 2026-01-15", lambda o: o["CloseDate"] == date(2026, 1, 15)),
    (
        "CreatedDate < 2026-01-10T00:00:00Z",
        lambda o: o["CreatedDate"] < datetime(2026, 1, 10, tzinfo=UTC),
    ),
    (
        # 02:00 at +02:00 is midnight UTC.
        "CreatedDate >= 2026-02-01T02:00:00+02:00",
        lambda o: o["CreatedDate"] >= datetime(2026, 2, 1, tzinfo=UTC),
    ),
    (
        "SystemModstamp > 2026-02-01T00:00:00.000Z",
        lambda o: o["SystemModstamp"] > datetime(2026, 2, 1, tzinfo=UTC),
    ),
    (
        "(StageName = 'Proposal' OR Amount > 100000) AND NOT (LeadSource = 'Web')",
        lambda o: (
            (o["StageName"] == "Proposal" or (o["Amount"] or 0) > 100000)
            and o["LeadSource"] != "Web"
        ),
    ),
    (
        "NOT Amount > 1000 OR (Type = 'Renewal' AND LeadSource = null)",
        lambda o: (
            not ((o["Amount"] is not None) and o["Amount"] > 1000)
            or (o["Type"] == "Renewal" and o["LeadSource"] is None)
        ),
    ),
    ("Region__c = 'EMEA'", lambda o: o["Region__c"] == "EMEA"),
    ("Region__c = null", lambda o: o["Region__c"] == ""),
]


@pytest.mark.parametrize(("condition", "predicate"), WHERE_CASES, ids=[c for c, _ in WHERE_CASES])
def test_where_matches_the_csv_rows(
    sf: Salesforce, org: OrgFixture, condition: str, predicate
) -> None:
    expected = _where(org, predicate)
    result = sf.query_all(f"SELECT Id FROM Opportunity WHERE {condition}")
    assert _ids(result["records"]) == expected
    assert expected, f"the test org has no rows for {condition}; the case proves nothing"
    count = sf.query(f"SELECT COUNT() FROM Opportunity WHERE {condition}")
    assert count["totalSize"] == len(expected) and count["records"] == []


# --------------------------------------------------------------------------- ORDER BY


def test_order_by_descending_with_nulls_last(sf: Salesforce, org: OrgFixture) -> None:
    records = sf.query_all("SELECT Id, Amount FROM Opportunity ORDER BY Amount DESC NULLS LAST")[
        "records"
    ]
    amounts = [r["Amount"] for r in records]
    present = [a for a in amounts if a is not None]
    assert present == sorted(present, reverse=True)
    assert amounts[len(present) :] == [None] * (len(amounts) - len(present))


def test_order_by_puts_nulls_first_by_default(sf: Salesforce) -> None:
    records = sf.query_all("SELECT Name FROM Opportunity ORDER BY Name")["records"]
    names = [r["Name"] for r in records]
    nulls = names.count(None)
    assert nulls > 0 and names[:nulls] == [None] * nulls
    # Text sorts case-insensitively: 'acme' and 'Acme' interleave, 'zeta'/'ZETA' come last.
    assert [n.lower() for n in names[nulls:]] == sorted(n.lower() for n in names[nulls:])


def test_order_by_several_fields(sf: Salesforce, org: OrgFixture) -> None:
    query = "SELECT Id FROM Opportunity ORDER BY StageName DESC, CloseDate ASC, Id DESC"
    # Stable sorts, least significant key first.
    expected = sorted(
        sorted(org.live_opportunities(), key=lambda o: o["Id"], reverse=True),
        key=lambda o: o["CloseDate"],
    )
    expected = sorted(expected, key=lambda o: o["StageName"].lower(), reverse=True)
    assert _ids(sf.query_all(query)["records"]) == _ids(expected)


def test_limit_and_offset(sf: Salesforce, org: OrgFixture) -> None:
    ordered = sorted(org.live_opportunities(), key=lambda o: o["Id"], reverse=True)
    limited = sf.query("SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT 5")
    assert limited["totalSize"] == 5 and _ids(limited["records"]) == _ids(ordered[:5])
    offset = sf.query("SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT 5 OFFSET 10")
    assert _ids(offset["records"]) == _ids(ordered[10:15])
    assert sf.query("SELECT COUNT() FROM Opportunity LIMIT 7")["totalSize"] == 7
    big = sf.query("SELECT Id FROM Opportunity LIMIT 3000")
    assert big["totalSize"] == 3000 and not big["done"]
    assert len(sf.query_all("SELECT Id FROM Opportunity LIMIT 3000")["records"]) == 3000


def test_object_with_an_empty_file_has_no_rows(sf: Salesforce) -> None:
    result = sf.query("SELECT Id, Subject FROM Event")
    assert result == {"totalSize": 0, "done": True, "records": []}


def test_an_unknown_query_locator_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more(
            f"/services/data/v{API_VERSION}/query/01gAAAAAAAAAAAAAAA-2000", identifier_is_url=True
        )
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
