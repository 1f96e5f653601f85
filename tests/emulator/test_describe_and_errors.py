"""Describe calls, REST resources and Salesforce error codes, through simple-salesforce."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from salesprep.catalog import get_object
from salesprep.emulator import EmulatorConfig, EmulatorHandle, run_emulator
from salesprep.org_folder import write_object

from .conftest import API_VERSION, EXTRA_COLUMNS, OPPORTUNITY_FIELDS, OrgFixture, connect


def test_global_describe_lists_only_objects_with_a_csv(sf: Salesforce) -> None:
    result = sf.describe()
    names = [o["name"] for o in result["sobjects"]]
    assert names == ["User", "Opportunity", "Event"]  # catalog order
    opportunity = result["sobjects"][1]
    assert opportunity["keyPrefix"] == "006"
    assert opportunity["queryable"] is True
    assert opportunity["urls"]["describe"] == (
        f"/services/data/v{API_VERSION}/sobjects/Opportunity/describe"
    )


def test_describe_reports_the_csv_fields_only(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert list(fields) == OPPORTUNITY_FIELDS + EXTRA_COLUMNS
    assert "Loss_Reason__c" not in fields and "NextStep" not in fields
    assert fields["Region__c"]["custom"] is True and fields["Region__c"]["type"] == "string"
    assert fields["LegacyCode"]["custom"] is False
    assert fields["Amount"]["type"] == "currency" and fields["Amount"]["soapType"] == "xsd:double"
    assert fields["OwnerId"]["referenceTo"] == ["User"]
    assert fields["OwnerId"]["relationshipName"] == "Owner"
    assert fields["CloseDate"]["label"] == "Close Date"
    assert fields["Description"]["filterable"] is False
    assert fields["Id"]["nillable"] is False and fields["Amount"]["nillable"] is True
    for field in fields.values():
        assert {"name", "type", "label", "nillable", "custom", "referenceTo", "length"} <= set(
            field
        )


def test_describe_matches_header_case_insensitively(sf: Salesforce) -> None:
    fields = [f["name"] for f in sf.User.describe()["fields"]]
    assert fields == ["Id", "Name", "IsActive", "ManagerId", "CreatedDate"]


def test_describe_of_an_empty_file_lists_every_declared_field(sf: Salesforce) -> None:
    fields = [f["name"] for f in sf.Event.describe()["fields"]]
    assert fields == get_object("Event").field_names


@pytest.mark.parametrize("name", ["Lead", "OpportunityHistory"])
def test_describe_of_a_missing_object_is_not_found(sf: Salesforce, name: str) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        getattr(sf, name).describe()


def test_versions_and_resources(emulator: EmulatorHandle, sf: Salesforce) -> None:
    versions = requests.get(f"{emulator.base_url}/services/data/").json()
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    resources = sf.restful("")
    assert resources["query"] == f"/services/data/v{API_VERSION}/query"
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000


def test_unknown_version_is_not_found(emulator: EmulatorHandle, sf: Salesforce) -> None:
    answer = requests.get(
        f"{emulator.base_url}/services/data/v12.0/sobjects/",
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert answer.status_code == 404
    assert answer.json()[0]["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "code", "fragment"),
    [
        (
            "SELECT Id, Foo FROM Opportunity",
            "INVALID_FIELD",
            "No such column 'Foo' on entity 'Opportunity'",
        ),
        (
            "SELECT Id FROM Opportunity WHERE Loss_Reason__c = 'x'",
            "INVALID_FIELD",
            "No such column 'Loss_Reason__c' on entity 'Opportunity'",
        ),
        ("SELECT Id FROM Foo", "INVALID_TYPE", "sObject type 'Foo' is not supported"),
        ("SELECT Id FROM OpportunityHistory", "INVALID_TYPE", "'OpportunityHistory'"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Opportunity LIMIT x", "MALFORMED_QUERY", "unexpected token: x"),
        (
            "SELECT Id FROM Opportunity WHERE Amount = '5'",
            "INVALID_FIELD",
            "must be of type currency and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Opportunity WHERE Description = 'x'",
            "INVALID_FIELD",
            "field 'Description' can not be filtered",
        ),
        (
            "SELECT Id FROM Opportunity WHERE CreatedDate > 2026-01-01",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        ("SELECT Owner.Name FROM Opportunity", "INVALID_FIELD", "relationship 'Owner'"),
    ],
)
def test_query_errors_map_to_simple_salesforce_exceptions(
    sf: Salesforce, query: str, code: str, fragment: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(query)
    assert caught.value.status == 400
    [error] = caught.value.content
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_empty_query_is_malformed(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_daily_limit_exhaustion_refuses_requests(org: OrgFixture) -> None:
    with run_emulator(org.path, config=EmulatorConfig(daily_api_limit=3)) as handle:
        sf = connect(handle)
        for _ in range(3):
            sf.query("SELECT COUNT() FROM User")
        assert sf.api_usage["api-usage"].used == 3
        with pytest.raises(SalesforceRefusedRequest) as caught:
            sf.query("SELECT COUNT() FROM User")
        assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert handle.api_calls == 3


def test_results_expire_after_their_time_to_live(org: OrgFixture) -> None:
    config = EmulatorConfig(query_result_ttl_seconds=0.0)
    with run_emulator(org.path, config=config) as handle:
        sf = connect(handle)
        first = sf.query("SELECT Id FROM Opportunity")
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
        assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
        assert handle.emulator.queries.open_results() == 0


def test_a_bad_csv_value_is_a_server_error_naming_the_file(tmp_path) -> None:
    write_object(
        tmp_path,
        "Account",
        [{"Id": "001000000000000001", "NumberOfEmployees": 5}],
        ["Id", "NumberOfEmployees"],
    )
    path = tmp_path / "Account.csv"
    path.write_text(path.read_text().replace(",5", ",five"))
    with run_emulator(tmp_path) as handle:
        sf = connect(handle)
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM Account")
        message = caught.value.content[0]["message"]
        assert "Account.csv" in message and "NumberOfEmployees" in message
