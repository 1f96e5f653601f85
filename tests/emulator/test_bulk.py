"""Bulk API 2.0 query jobs through simple-salesforce's `bulk2` client."""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.bulk2 import Operation, _Bulk2Client
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from .conftest import OrgFixture
from .test_query import _wire

FIELDS = ["Id", "Name", "Amount", "CloseDate", "IsWon", "CreatedDate", "Region__c"]


def _client(sf: Salesforce) -> _Bulk2Client:
    return _Bulk2Client("Opportunity", sf.bulk2_url, sf.bulk2.headers, sf.session)


def _rows(chunks) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for chunk in chunks:
        rows += list(csv.DictReader(io.StringIO(chunk)))
    return rows


def _bulk_text(value) -> str:
    """A value of the test org as a Bulk API 2.0 CSV cell."""
    wired = _wire(value)
    if wired is None:
        return ""
    if isinstance(wired, bool):
        return "true" if wired else "false"
    if isinstance(wired, str) and wired.endswith("+0000"):
        return wired.removesuffix("+0000") + "Z"
    return str(wired)


def test_bulk_query_returns_live_rows_as_csv(sf: Salesforce, org: OrgFixture) -> None:
    chunks = list(
        sf.bulk2.Opportunity.query(
            f"SELECT {', '.join(FIELDS)} FROM Opportunity", max_records=1500, wait=0.05
        )
    )
    live = org.live_opportunities()
    assert len(chunks) == -(-len(live) // 1500)
    rows = _rows(chunks)
    assert [r["Id"] for r in rows] == [o["Id"] for o in live]
    for row, source in zip(rows, live, strict=True):
        assert list(row) == FIELDS
        assert row == {name: _bulk_text(source[name]) for name in FIELDS}


def test_bulk_query_all_includes_deleted_rows(sf: Salesforce, org: OrgFixture) -> None:
    rows = _rows(sf.bulk2.Opportunity.query_all("SELECT Id, IsDeleted FROM Opportunity", wait=0.05))
    assert [r["Id"] for r in rows] == [o["Id"] for o in org.opportunities]
    assert sum(r["IsDeleted"] == "true" for r in rows) == sum(
        o["IsDeleted"] for o in org.opportunities
    )


def test_job_lifecycle_and_locators(sf: Salesforce, org: OrgFixture) -> None:
    client = _client(sf)
    job = client.create_job(
        Operation.query, "SELECT Id FROM Opportunity WHERE IsWon = true ORDER BY Id DESC"
    )
    assert job["state"] in ("UploadComplete", "InProgress", "JobComplete")
    assert job["id"].startswith("750") and job["object"] == "Opportunity"
    assert client.wait_for_job(job["id"], True, wait=0.05) == "JobComplete"
    expected = sorted((o["Id"] for o in org.live_opportunities() if o["IsWon"]), reverse=True)
    assert client.get_job(job["id"], True)["numberRecordsProcessed"] == len(expected)
    first = client.get_query_results(job["id"], max_records=100)
    assert first["number_of_records"] == 100 and first["locator"]
    again = client.get_query_results(job["id"], max_records=100)
    assert again == first  # a locator-less request always starts at the beginning
    rest = client.get_query_results(job["id"], first["locator"], max_records=10**6)
    assert rest["locator"] == ""  # Sforce-Locator: null on the last slice
    ids = [r["Id"] for r in _rows([first["records"], rest["records"]])]
    assert ids == expected
    # Salesforce answers DELETE with 204 and no body (simple-salesforce's delete_job expects
    # JSON), so delete through the session.
    deleted = sf.session.delete(f"{sf.bulk2_url}query/{job['id']}", headers=sf.bulk2.headers)
    assert deleted.status_code == 204
    with pytest.raises(SalesforceResourceNotFound):
        client.get_job(job["id"], True)


def test_other_delimiters_and_line_endings(sf: Salesforce) -> None:
    client = _client(sf)
    job = client.create_job(
        Operation.query, "SELECT Id, Name FROM User ORDER BY Id LIMIT 2", "PIPE", "CRLF"
    )
    client.wait_for_job(job["id"], True, wait=0.05)
    text = client.get_query_results(job["id"])["records"]
    assert text == (
        '"Id"|"Name"\r\n"005000000000000000"|"User 0"\r\n"005000000000000001"|"User 1"\r\n'
    )


def test_invalid_query_is_refused_at_job_creation(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _client(sf).create_job(Operation.query, "SELECT Nope FROM Opportunity")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_bad_locator_is_refused(sf: Salesforce) -> None:
    client = _client(sf)
    job = client.create_job(Operation.query, "SELECT Id FROM User")
    client.wait_for_job(job["id"], True, wait=0.05)
    with pytest.raises(SalesforceMalformedRequest):
        client.get_query_results(job["id"], "not*base64")


def test_a_finished_job_cannot_be_aborted(sf: Salesforce) -> None:
    client = _client(sf)
    job = client.create_job(Operation.query, "SELECT Id FROM User")
    client.wait_for_job(job["id"], True, wait=0.05)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        client.abort_job(job["id"], True)
    assert caught.value.content[0]["errorCode"] == "INVALIDJOBSTATE"
    listed = sf.session.get(f"{sf.bulk2_url}query", headers=sf.bulk2.headers).json()
    assert job["id"] in [j["id"] for j in listed["records"]]


def test_slices_rendered_ahead_match_slices_rendered_on_demand(
    sf: Salesforce, org: OrgFixture
) -> None:
    """The emulator renders the next slice while the client reads one: paging in order is
    served from it, and a retried, skipped or differently sized request is rendered anew, with
    the same bytes either way."""
    client = _client(sf)
    soql = f"SELECT {', '.join(FIELDS)} FROM Opportunity ORDER BY Id"
    job = client.create_job(Operation.query_all, soql)
    client.wait_for_job(job["id"], True, wait=0.05)
    in_order, locator = [], None
    while True:
        answer = client.get_query_results(job["id"], locator, max_records=70)
        in_order.append(answer["records"])
        locator = answer["locator"]
        if not locator:
            break
    assert len(in_order) == -(-len(org.opportunities) // 70)
    # Backwards (nothing ahead matches), the same slice twice, then in other sizes.
    second = client.get_query_results(job["id"], max_records=70)["locator"]
    assert client.get_query_results(job["id"], second, max_records=70)["records"] == in_order[1]
    assert client.get_query_results(job["id"], second, max_records=70)["records"] == in_order[1]
    whole = client.get_query_results(job["id"], max_records=10**6)["records"]
    header, *lines = whole.splitlines(keepends=True)
    assert in_order == [header + "".join(lines[i : i + 70]) for i in range(0, len(lines), 70)]
    assert [r["Id"] for r in _rows(in_order)] == sorted(o["Id"] for o in org.opportunities)
