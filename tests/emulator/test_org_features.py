"""An org folder with Organization, currencies, a custom fiscal year and record types: the
emulator logs in as that org, describes the objects and fields the folder has, and serves
archived activities to queryAll (REST and Bulk API 2.0) but not to query, as Salesforce does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from simple_salesforce import Salesforce

from salesprep.emulator import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    EmulatorHandle,
    run_emulator,
)
from salesprep.org_folder import write_object
from salesprep.salesforce.session import InstanceRewritingSession

from .conftest import API_VERSION, connect

ORG_ID = "00D5g000004ZzXyEAK"
ORG_NAME = "Müller & Co. KG"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# Tasks 1-6: 1 and 2 are more than a year old and archived; 3 is deleted.
TASKS = [
    {
        "Id": f"00T{n:015d}",
        "Subject": f"Call {n}",
        "ActivityDate": (NOW - timedelta(days=400 if n <= 2 else 10 * n)).date(),
        "IsClosed": True,
        "IsArchived": n <= 2,
        "IsDeleted": n == 3,
        "SystemModstamp": NOW - timedelta(days=400 if n <= 2 else 10 * n),
    }
    for n in range(1, 7)
]
TASK_FIELDS = ["Id", "Subject", "ActivityDate", "IsClosed", "IsArchived", "IsDeleted"]


def build_featured_org(path: Path) -> Path:
    stamp = {"CreatedDate": NOW, "LastModifiedDate": NOW, "SystemModstamp": NOW}
    write_object(
        path,
        "Organization",
        [
            {
                "Id": ORG_ID,
                "Name": ORG_NAME,
                "FiscalYearStartMonth": 2,
                "UsesStartDateAsFiscalYearName": False,
                "DefaultLocaleSidKey": "de_DE",
                **stamp,
            }
        ],
        ["Id", "Name", "FiscalYearStartMonth", "UsesStartDateAsFiscalYearName",
         "DefaultLocaleSidKey", "CreatedDate", "LastModifiedDate", "SystemModstamp"],
    )  # fmt: skip
    write_object(
        path,
        "CurrencyType",
        [
            {"Id": "02c000000000001AAA", "IsoCode": "EUR", "ConversionRate": 1.0,
             "IsActive": True, "IsCorporate": True, **stamp},
            {"Id": "02c000000000002AAA", "IsoCode": "USD", "ConversionRate": 1.08,
             "IsActive": True, "IsCorporate": False, **stamp},
        ],
    )  # fmt: skip
    write_object(
        path,
        "DatedConversionRate",
        [
            {"Id": "04w000000000001AAA", "IsoCode": "USD", "ConversionRate": 1.1,
             "StartDate": date(2026, 1, 1), "NextStartDate": date(2026, 2, 1), **stamp},
            {"Id": "04w000000000002AAA", "IsoCode": "USD", "ConversionRate": 1.07,
             "StartDate": date(2026, 2, 1), "NextStartDate": None, **stamp},
        ],
    )  # fmt: skip
    write_object(
        path,
        "RecordType",
        [{"Id": "012000000000001AAA", "Name": "Renewal", "DeveloperName": "Renewal",
          "SobjectType": "Opportunity", "IsActive": True, **stamp}],
    )  # fmt: skip
    write_object(
        path,
        "Opportunity",
        [
            {"Id": "006000000000001AAA", "Name": "A", "StageName": "Prospecting",
             "Amount": 1000.0, "CurrencyIsoCode": "USD", "RecordTypeId": "012000000000001AAA",
             "IsClosed": False, "IsWon": False, "CreatedDate": NOW},
        ],
        ["Id", "Name", "StageName", "Amount", "CurrencyIsoCode", "RecordTypeId", "IsClosed",
         "IsWon", "CreatedDate"],
    )  # fmt: skip
    write_object(path, "Task", TASKS, TASK_FIELDS)
    return path


@pytest.fixture(scope="module")
def featured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    org = build_featured_org(tmp_path_factory.mktemp("featured"))
    with run_emulator(org) as handle:
        yield handle


@pytest.fixture(scope="module")
def featured_sf(featured: EmulatorHandle) -> Salesforce:
    return connect(featured)


def test_soap_login_reports_the_organization_of_the_folder(featured: EmulatorHandle) -> None:
    envelope = (
        '<?xml version="1.0" encoding="utf-8" ?><env:Envelope '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        '<n1:login xmlns:n1="urn:partner.soap.sforce.com">'
        f"<n1:username>{DEFAULT_USERNAME}</n1:username>"
        f"<n1:password>{DEFAULT_PASSWORD}{DEFAULT_SECURITY_TOKEN}</n1:password>"
        "</n1:login></env:Body></env:Envelope>"
    )
    answer = requests.post(
        f"{featured.base_url}/services/Soap/u/{API_VERSION}",
        data=envelope.encode(),
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        timeout=10,
    )
    assert answer.status_code == 200
    root = ElementTree.fromstring(answer.content)
    values = {e.tag.rsplit("}", 1)[-1]: e.text for e in root.iter()}
    assert values["organizationId"] == ORG_ID
    assert values["organizationName"] == ORG_NAME
    assert values["sessionId"].startswith(ORG_ID[:15] + "!")


def test_session_ids_and_the_oauth_identity_name_the_org(
    featured: EmulatorHandle, featured_sf: Salesforce
) -> None:
    assert featured_sf.session_id.startswith(ORG_ID[:15] + "!")
    token = requests.post(
        f"{featured.base_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": DEFAULT_CONSUMER_KEY,
            "client_secret": DEFAULT_CONSUMER_SECRET,
            "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
        },
        timeout=10,
    ).json()
    assert f"/id/{ORG_ID}/" in token["id"]
    session = InstanceRewritingSession(featured.base_url)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    identity = session.get(token["id"].replace("http://", "https://"), headers=headers).json()
    assert identity["organization_id"] == ORG_ID
    assert identity["username"] == DEFAULT_USERNAME
    other = token["id"].replace(ORG_ID, "00D000000000999AAA")
    assert requests.get(other, headers=headers, timeout=10).status_code == 404
    assert requests.get(token["id"], timeout=10).status_code == 401


def test_describe_reports_the_feature_objects_and_fields_the_folder_has(
    featured_sf: Salesforce,
) -> None:
    names = [o["name"] for o in featured_sf.describe()["sobjects"]]
    assert names == [
        "Organization", "CurrencyType", "DatedConversionRate", "RecordType", "Opportunity",
        "Task",
    ]  # fmt: skip
    prefixes = {o["name"]: o["keyPrefix"] for o in featured_sf.describe()["sobjects"]}
    assert prefixes["Organization"] == "00D" and prefixes["CurrencyType"] == "02c"
    currency = {f["name"]: f for f in featured_sf.CurrencyType.describe()["fields"]}
    assert currency["ConversionRate"]["type"] == "double"
    assert currency["IsCorporate"]["type"] == "boolean"
    opportunity = {f["name"]: f for f in featured_sf.Opportunity.describe()["fields"]}
    assert opportunity["CurrencyIsoCode"]["type"] == "picklist"
    assert opportunity["RecordTypeId"]["referenceTo"] == ["RecordType"]
    assert "Loss_Reason__c" not in opportunity
    task = [f["name"] for f in featured_sf.Task.describe()["fields"]]
    assert task == TASK_FIELDS
    organization = featured_sf.query("SELECT Id, Name, FiscalYearStartMonth FROM Organization")
    assert organization["records"][0]["Name"] == ORG_NAME
    assert organization["records"][0]["FiscalYearStartMonth"] == 2


def test_an_org_without_the_features_describes_none_of_them(sf: Salesforce) -> None:
    with pytest.raises(Exception, match="NOT_FOUND"):
        sf.CurrencyType.describe()
    opportunity = [f["name"] for f in sf.Opportunity.describe()["fields"]]
    assert "CurrencyIsoCode" not in opportunity and "RecordTypeId" not in opportunity


def _ids(records: list[dict]) -> list[str]:
    return sorted(r["Id"] for r in records)


def test_archived_activities_come_only_from_query_all(featured_sf: Salesforce) -> None:
    live = featured_sf.query("SELECT Id, IsArchived FROM Task")
    assert _ids(live["records"]) == [t["Id"] for t in TASKS[3:]]
    assert featured_sf.query("SELECT COUNT() FROM Task")["totalSize"] == 3
    everything = featured_sf.query_all("SELECT Id, IsArchived, IsDeleted FROM Task", True)
    assert _ids(everything["records"]) == [t["Id"] for t in TASKS]
    archived = [r["Id"] for r in everything["records"] if r["IsArchived"]]
    assert sorted(archived) == [TASKS[0]["Id"], TASKS[1]["Id"]]
    # Filtering on IsArchived does not reach archived rows through query either.
    assert featured_sf.query("SELECT Id FROM Task WHERE IsArchived = true")["totalSize"] == 0
    counted = featured_sf.query("SELECT COUNT() FROM Task WHERE IsArchived = true", True)
    assert counted["totalSize"] == 2


@pytest.mark.parametrize(("operation", "expected"), [("query", 3), ("queryAll", 6)])
def test_bulk_query_all_includes_archived_activities(
    featured: EmulatorHandle, featured_sf: Salesforce, operation: str, expected: int
) -> None:
    base = f"{featured.base_url}/services/data/v{API_VERSION}/jobs/query"
    headers = {"Authorization": f"Bearer {featured_sf.session_id}"}
    job = requests.post(
        base,
        json={"operation": operation, "query": "SELECT Id, IsArchived FROM Task"},
        headers=headers,
        timeout=10,
    ).json()
    deadline = time.monotonic() + 10
    while (
        requests.get(f"{base}/{job['id']}", headers=headers, timeout=10).json()["state"]
        != "JobComplete"
    ):
        assert time.monotonic() < deadline, "the Bulk job did not complete"
        time.sleep(0.02)
    result = requests.get(f"{base}/{job['id']}/results", headers=headers, timeout=10)
    lines = result.text.strip().splitlines()
    assert lines[0] == '"Id","IsArchived"'
    assert len(lines) - 1 == expected
    assert sum(1 for line in lines[1:] if line.endswith('"true"')) == (2 if expected == 6 else 0)
