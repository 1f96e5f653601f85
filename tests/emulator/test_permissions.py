"""Objects and fields hidden from the user (profile, field-level security): gone from describe,
refused by SOQL and Bulk with Salesforce's own errors, as absent ones are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from salesprep.cli import build_parser, main
from salesprep.emulator import EmulatorConfig, EmulatorHandle, run_emulator
from salesprep.emulator.permissions import Permissions, PermissionsError, load_permissions
from salesprep.org_folder import write_object

from .conftest import OPPORTUNITY_FIELDS, OrgFixture, connect

HIDDEN = frozenset({"Opportunity.Amount", "opportunity.forecastcategoryname", "Event"})


@pytest.fixture(scope="module")
def restricted(org: OrgFixture) -> Iterator[EmulatorHandle]:
    with run_emulator(org.path, config=EmulatorConfig(hidden=HIDDEN)) as handle:
        yield handle


@pytest.fixture(scope="module")
def restricted_sf(restricted: EmulatorHandle) -> Salesforce:
    return connect(restricted)


def _query_error(sf: Salesforce, soql: str) -> dict[str, str]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    assert caught.value.status == 400
    [error] = caught.value.content
    return error


def test_hidden_fields_vanish_from_describe_and_the_rest_stay(restricted_sf: Salesforce) -> None:
    fields = [f["name"] for f in restricted_sf.Opportunity.describe()["fields"]]
    expected = [f for f in OPPORTUNITY_FIELDS if f not in ("Amount", "ForecastCategoryName")]
    assert fields[: len(expected)] == expected
    assert "Amount" not in fields and "ForecastCategoryName" not in fields


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id, Amount FROM Opportunity",
        "SELECT Id FROM Opportunity WHERE Amount > 10",
        "SELECT Id FROM Opportunity ORDER BY Amount",
    ],
)
def test_soql_naming_a_hidden_field_fails_as_salesforce_does(
    restricted_sf: Salesforce, soql: str
) -> None:
    error = _query_error(restricted_sf, soql)
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Amount' on entity 'Opportunity'" in error["message"]


def test_visible_fields_still_answer(restricted_sf: Salesforce, org: OrgFixture) -> None:
    result = restricted_sf.query_all("SELECT Id, StageName FROM Opportunity")
    assert result["totalSize"] == len(org.live_opportunities())


def test_a_hidden_object_answers_as_an_absent_one(restricted_sf: Salesforce) -> None:
    names = [o["name"] for o in restricted_sf.describe()["sobjects"]]
    assert names == ["User", "Opportunity"]
    with pytest.raises(SalesforceResourceNotFound):
        restricted_sf.Event.describe()
    error = _query_error(restricted_sf, "SELECT COUNT() FROM Event")
    assert error["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Event' is not supported" in error["message"]


def test_bulk_refuses_a_job_on_a_hidden_field(
    restricted: EmulatorHandle, restricted_sf: Salesforce
) -> None:
    answer = requests.post(
        f"{restricted.base_url}/services/data/v62.0/jobs/query",
        headers={"Authorization": f"Bearer {restricted_sf.session_id}"},
        json={"operation": "queryAll", "query": "SELECT Id, Amount FROM Opportunity"},
        timeout=30,
    )
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "INVALID_FIELD"


def test_composite_describe_of_a_hidden_object_is_not_found(
    restricted: EmulatorHandle, restricted_sf: Salesforce
) -> None:
    base = "/services/data/v62.0/sobjects"
    answer = requests.post(
        f"{restricted.base_url}/services/data/v62.0/composite",
        headers={"Authorization": f"Bearer {restricted_sf.session_id}"},
        json={
            "compositeRequest": [
                {"method": "GET", "url": f"{base}/Event/describe", "referenceId": "event"},
                {"method": "GET", "url": f"{base}/User/describe", "referenceId": "user"},
            ]
        },
        timeout=30,
    )
    statuses = {r["referenceId"]: r["httpStatusCode"] for r in answer.json()["compositeResponse"]}
    assert statuses == {"event": 404, "user": 200}


def _small_org(path: Path) -> Path:
    write_object(
        path,
        "Opportunity",
        [{"Id": "006000000000000001", "Name": "A", "Amount": 5.0}],
        ["Id", "Name", "Amount"],
    )
    write_object(path, "Task", [{"Id": "00T000000000000001"}], ["Id"])
    return path


@pytest.mark.parametrize(
    ("file_name", "text"),
    [
        ("_permissions.yaml", "hidden:\n  - Task\n  - Opportunity.Amount\n"),
        ("_permissions.json", json.dumps({"hidden": ["Task", "Opportunity.Amount"]})),
    ],
)
def test_the_org_folder_permissions_file_hides_what_it_lists(
    tmp_path: Path, file_name: str, text: str
) -> None:
    (_small_org(tmp_path) / file_name).write_text(text, encoding="utf-8")
    with run_emulator(tmp_path) as handle:
        sf = connect(handle)
        assert [o["name"] for o in sf.describe()["sobjects"]] == ["Opportunity"]
        assert [f["name"] for f in sf.Opportunity.describe()["fields"]] == ["Id", "Name"]
        assert _query_error(sf, "SELECT Amount FROM Opportunity")["errorCode"] == "INVALID_FIELD"


def test_the_file_and_the_setting_add_up(tmp_path: Path) -> None:
    (_small_org(tmp_path) / "_permissions.yaml").write_text("hidden: [Task]\n", encoding="utf-8")
    config = EmulatorConfig(hidden=frozenset({"Opportunity.Name"}))
    with run_emulator(tmp_path, config=config) as handle:
        sf = connect(handle)
        assert [o["name"] for o in sf.describe()["sobjects"]] == ["Opportunity"]
        assert [f["name"] for f in sf.Opportunity.describe()["fields"]] == ["Id", "Amount"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("hidden: [Lead]\n", "unknown Salesforce object 'Lead'"),
        ("hidden: [Opportunity.Id]\n", "Opportunity.Id cannot be hidden"),
        ("hidden: [Opportunity.SystemModstamp]\n", "cannot be hidden"),
        ("hidden: ['Opportunity.']\n", "is not an object or Object.Field name"),
        ("hidden: Task\n", "hidden must be a list"),
        ("hide: [Task]\n", "must be a mapping with one key, hidden"),
        ("hidden: [Task\n", "is not valid yaml"),
    ],
)
def test_a_bad_permissions_file_names_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "_permissions.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PermissionsError, match=r"_permissions\.yaml") as caught:
        load_permissions(tmp_path)
    assert fragment in str(caught.value)


def test_no_permissions_file_hides_nothing(tmp_path: Path) -> None:
    assert load_permissions(tmp_path) == Permissions()


def test_the_emulator_command_takes_hide_flags(tmp_path: Path, capsys) -> None:
    args = build_parser().parse_args(
        ["emulator", str(tmp_path), "--hide", "Task", "--hide", "Opportunity.Amount"]
    )
    assert args.hide == ["Task", "Opportunity.Amount"]
    # A bad entry stops the command with one line, before it serves anything.
    assert main(["emulator", str(_small_org(tmp_path)), "--port", "0", "--hide", "Lead"]) == 2
    assert "unknown Salesforce object 'Lead'" in capsys.readouterr().err
