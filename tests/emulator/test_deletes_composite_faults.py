"""Hard deletes (`_deleted/<Object>.csv`, `sobjects/<Object>/deleted/`), composite requests,
the per-folder org id and the fault injector, through simple-salesforce and plain requests."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesprep.cli.emulator import add_fault_arguments, emulator_config_from_args
from salesprep.demo_org import is_valid_id
from salesprep.emulator import (
    EmulatorConfig,
    FaultConfig,
    run_emulator,
    write_deleted_records,
)
from salesprep.emulator.faults import FaultConfigError
from salesprep.emulator.server import derive_org_id
from salesprep.org_folder import write_object

from .conftest import API_VERSION, OrgFixture, connect

NOW = datetime.now(UTC).replace(microsecond=0)


def _recent_org(path: Path) -> Path:
    """Five accounts changed an hour ago, one soft-deleted, two more deleted for good."""
    hour_ago = NOW - timedelta(hours=1)
    rows = [
        {
            "Id": f"001{n:015d}",
            "Name": f"Account {n}",
            "IsDeleted": n == 2,
            "SystemModstamp": hour_ago,
        }
        for n in range(5)
    ]
    write_object(path, "Account", rows, ["Id", "Name", "IsDeleted", "SystemModstamp"])
    write_deleted_records(
        path,
        "Account",
        [("001000000000000004", hour_ago), ("001000000000000099", NOW - timedelta(days=3))],
    )
    return path


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_deleted_resource_lists_purged_and_recycled_records_in_the_window(tmp_path: Path):
    with run_emulator(_recent_org(tmp_path)) as handle:
        sf = connect(handle)
        window = sf.Account.deleted(NOW - timedelta(hours=2), NOW)
        ids = [r["id"] for r in window["deletedRecords"]]
        assert sorted(ids) == ["001000000000000002", "001000000000000004"]
        assert window["latestDateCovered"].startswith(NOW.strftime("%Y-%m-%dT%H:%M:%S"))
        older = sf.Account.deleted(NOW - timedelta(days=4), NOW - timedelta(days=2))
        assert [r["id"] for r in older["deletedRecords"]] == ["001000000000000099"]
        # Purged records are gone from queryAll; recycled ones stay, flagged.
        served = sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)
        flags = {r["Id"]: r["IsDeleted"] for r in served["records"]}
        assert "001000000000000004" not in flags and flags["001000000000000002"] is True
        assert len(flags) == 4


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (NOW, NOW - timedelta(hours=1), "INVALID_REPLICATION_DATE"),
        (NOW - timedelta(days=16), NOW, "INVALID_REPLICATION_DATE"),
        ("yesterday", NOW, "INVALID_REPLICATION_DATE"),
        (None, NOW, "MISSING_ARGUMENT"),
    ],
    ids=["start after end", "older than the retention", "not a date", "no start"],
)
def test_deleted_resource_refuses_bad_windows(tmp_path: Path, start, end, code):
    with run_emulator(_recent_org(tmp_path)) as handle:
        sf = connect(handle)
        params = {"end": _iso(end)}
        if start is not None:
            params["start"] = start if isinstance(start, str) else _iso(start)
        url = f"{handle.base_url}/services/data/v{API_VERSION}/sobjects/Account/deleted/"
        response = requests.get(url, params=params, headers=sf.headers, timeout=10)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_a_deleted_file_without_its_columns_is_named(tmp_path: Path):
    _recent_org(tmp_path)
    (tmp_path / "_deleted" / "Account.csv").write_text("RecordId,When\nx,y\n", encoding="utf-8")
    with run_emulator(tmp_path) as handle:
        sf = connect(handle)
        with pytest.raises(Exception, match=r"_deleted/Account.csv must have the columns Id"):
            sf.query("SELECT Id FROM Account")


def test_composite_answers_subrequests_for_one_api_call(org: OrgFixture):
    with run_emulator(org.path) as handle:
        sf = connect(handle)
        base = f"/services/data/v{API_VERSION}"
        body = {
            "allOrNone": False,
            "compositeRequest": [
                {"method": "GET", "url": f"{base}/sobjects/User/describe/", "referenceId": "u"},
                {"method": "GET", "url": f"{base}/sobjects/Task/describe/", "referenceId": "t"},
                {
                    "method": "GET",
                    "url": f"{base}/queryAll/?q=SELECT+COUNT()+FROM+Opportunity",
                    "referenceId": "c",
                },
            ],
        }
        before = handle.api_calls
        answer = sf.restful("composite", method="POST", json=body)
        assert handle.api_calls == before + 1
    results = {r["referenceId"]: r for r in answer["compositeResponse"]}
    assert results["u"]["httpStatusCode"] == 200 and results["u"]["body"]["name"] == "User"
    assert results["t"]["httpStatusCode"] == 404  # no Task.csv in this org
    assert results["c"]["body"]["totalSize"] == len(org.opportunities)


def test_composite_enforces_its_limits(org: OrgFixture):
    base = f"/services/data/v{API_VERSION}"
    query = {"method": "GET", "url": f"{base}/query/?q=SELECT+Id+FROM+User"}
    with run_emulator(org.path) as handle:
        sf = connect(handle)
        too_many_queries = [{**query, "referenceId": f"q{i}"} for i in range(6)]
        with pytest.raises(SalesforceMalformedRequest, match="at most 5 query"):
            sf.restful("composite", method="POST", json={"compositeRequest": too_many_queries})
        describe = {"method": "GET", "url": f"{base}/sobjects/User/describe/"}
        too_many = [{**describe, "referenceId": f"d{i}"} for i in range(26)]
        with pytest.raises(SalesforceMalformedRequest, match="at most 25"):
            sf.restful("composite", method="POST", json={"compositeRequest": too_many})


def test_org_id_is_stable_per_folder_and_starts_session_ids(org: OrgFixture, tmp_path: Path):
    assert derive_org_id(org.path) == derive_org_id(org.path)
    assert derive_org_id(org.path) != derive_org_id(tmp_path)
    assert len(derive_org_id(org.path)) == 18 and is_valid_id(derive_org_id(org.path))
    with run_emulator(org.path) as handle:
        sf = connect(handle)
    assert sf.session_id.startswith(derive_org_id(org.path)[:15] + "!")


def test_bulk_refuses_configured_objects(org: OrgFixture):
    config = EmulatorConfig(bulk_unsupported_objects=frozenset({"Opportunity"}))
    with run_emulator(org.path, config=config) as handle:
        sf = connect(handle)
        with pytest.raises(SalesforceMalformedRequest, match="not supported by the Bulk API"):
            sf.restful(
                "jobs/query",
                method="POST",
                json={"operation": "queryAll", "query": "SELECT Id FROM Opportunity"},
            )


def _injected(org_path: Path, faults: FaultConfig, requests_count: int) -> list[str]:
    """What each of `requests_count` sequential queries met: a status, or 'cut'."""
    outcomes = []
    with run_emulator(org_path, config=EmulatorConfig(faults=faults)) as handle:
        sf = connect(handle)
        url = f"{handle.base_url}/services/data/v{API_VERSION}/query/"
        for _ in range(requests_count):
            try:
                response = sf.session.get(
                    url, params={"q": "SELECT Id FROM User"}, headers=sf.headers, timeout=10
                )
                outcomes.append(str(response.status_code))
            except requests.exceptions.RequestException:
                outcomes.append("cut")
    return outcomes


def test_faults_are_seeded_and_capped(org: OrgFixture):
    faults = FaultConfig(seed=3, error_rates={503: 0.5, 500: 0.2}, drop_rate=0.2)
    first = _injected(org.path, faults, 40)
    assert first == _injected(org.path, faults, 40)
    assert {"503", "500", "cut", "200"} <= set(first)
    streak = longest = 0
    for outcome in first:
        streak = streak + 1 if outcome != "200" else 0
        longest = max(longest, streak)
    assert longest <= faults.max_consecutive
    assert _injected(org.path, FaultConfig(seed=4, error_rates={503: 0.5}), 40) != first


def test_session_expiry_fault_expires_sessions_every_n_requests(org: OrgFixture):
    faults = FaultConfig(session_expiry_every=3)
    assert _injected(org.path, faults, 6) == ["200", "200", "401", "401", "401", "401"]


def test_cut_answers_send_half_a_body(org: OrgFixture):
    with run_emulator(org.path, config=EmulatorConfig(faults=FaultConfig(drop_rate=1.0))) as h:
        sf = connect(h)
        url = f"{h.base_url}/services/data/v{API_VERSION}/query/"
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            sf.session.get(url, params={"q": "SELECT Id FROM User"}, headers=sf.headers)
        assert h.emulator.faults.injected["drop"] == 1


def test_fault_flags_build_the_emulator_config():
    parser = argparse.ArgumentParser()
    add_fault_arguments(parser)
    args = parser.parse_args(
        [
            "--fault-seed",
            "5",
            "--fault-error",
            "503=0.2",
            "--fault-error",
            "429=0.1",
            "--fault-session-expiry",
            "50",
            "--fault-slow",
            "2",
            "--fault-drop-rate",
            "0.05",
            "--fault-modify-while-paging",
            "3",
            "--daily-api-limit",
            "1000",
            "--api-usage",
            "900",
        ]
    )
    config = emulator_config_from_args(args)
    assert config.daily_api_limit == 1000 and config.api_usage == 900
    assert config.faults == FaultConfig(
        seed=5,
        error_rates={503: 0.2, 429: 0.1},
        session_expiry_every=50,
        slow_seconds=2.0,
        slow_rate=1.0,
        drop_rate=0.05,
        modify_while_paging=3,
    )
    assert emulator_config_from_args(parser.parse_args([])).faults is None
    with pytest.raises(FaultConfigError, match="418"):
        FaultConfig(error_rates={418: 0.5})
    with pytest.raises(SystemExit):
        parser.parse_args(["--fault-error", "503"])


def test_exhausted_daily_limit_fault(org: OrgFixture):
    faults = FaultConfig(exhaust_daily_limit=True)
    assert _injected(org.path, faults, 2) == ["403", "403"]
