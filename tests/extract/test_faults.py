"""The fault matrix: extraction against an emulator injecting one fault at a time (seeded, so
every run sees the same faults). Each ends one of two ways: the exact record set arrived
(nothing lost, nothing twice), or the run failed cleanly with the landing zone and the
watermarks untouched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from extract.conftest import make_settings, serve_org
from extract.org_changes import (
    assert_landed_equals_org,
    assert_same_landing,
    assert_unique_ids,
    change_org,
    files,
)
from extract.sample_org import write_sample_org
from salesprep.config import Settings
from salesprep.emulator import EmulatorConfig, FaultConfig
from salesprep.salesforce.errors import ApiLimitError, ApiRequestError
from salesprep.salesforce.extract import extract_org, state_path

# 300 opportunities and 200-record pages: Opportunity and OpportunityHistory take several
# pages, so faults land between pages too.
OPPORTUNITIES = 300
PAGE = 200


@pytest.fixture(scope="module")
def org_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_org(tmp_path_factory.mktemp("faults") / "org", opportunities=OPPORTUNITIES)


def sequential_settings(data_dir: Path, **salesforce) -> Settings:
    """One object at a time: the emulator's seeded draws, and its cap on injected failures in
    a row, hold for one stream of requests (concurrent loads have their own tests below)."""
    return make_settings(data_dir, concurrent_objects=1, **salesforce)


def _copy_org(template: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in template.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def _run(org_dir: Path, settings, faults: FaultConfig | None = None, **config):
    emulator_config = EmulatorConfig(faults=faults, **config)
    with serve_org(org_dir, settings, config=emulator_config) as served:
        # Load the org folder before the run, so only injected slowness can hit a timeout.
        store = served.handle.emulator.store
        for name in store.object_names():
            store.loaded_schema(name)
        urls: list[str] = []
        served.sf.session.hooks["response"].append(lambda r, *a, **k: urls.append(r.url))
        report = extract_org(served.sf, settings.raw_root, settings=settings, page_size=PAGE)
        injected = dict(served.handle.emulator.faults.injected) if faults else {}
    # Retries and re-logins (SOAP login included) go to the connection's plain-http host too.
    assert urls and all(url.startswith(served.base_url + "/services/") for url in urls)
    if report.relogins:
        assert any("/services/Soap/u/" in url for url in urls)
    return report, injected


SURVIVABLE = {
    "503 unavailable": (FaultConfig(seed=1, error_rates={503: 0.3}), "error_503"),
    "500, 502 and 504": (
        FaultConfig(seed=2, error_rates={500: 0.15, 502: 0.15, 504: 0.15}),
        "error_50",
    ),
    "429 throttling": (FaultConfig(seed=4, error_rates={429: 0.3}), "error_429"),
    "403 concurrent limit": (FaultConfig(seed=5, error_rates={403: 0.3}), "error_403"),
    "session expiry every 4 requests": (FaultConfig(seed=6, session_expiry_every=4), "session"),
    "connections cut mid-answer": (FaultConfig(seed=7, drop_rate=0.3), "drop"),
    "slow answers past the timeout": (
        FaultConfig(seed=8, slow_seconds=0.8, slow_rate=0.15),
        "slow",
    ),
    "everything at once": (
        FaultConfig(
            seed=9,
            error_rates={503: 0.15, 500: 0.1},
            drop_rate=0.1,
            session_expiry_every=5,
        ),
        "",
    ),
}


@pytest.mark.parametrize("case", list(SURVIVABLE), ids=list(SURVIVABLE))
def test_transient_faults_still_land_the_exact_record_set(
    case: str, org_template: Path, tmp_path: Path
):
    faults, expected_fault = SURVIVABLE[case]
    org_dir = _copy_org(org_template, tmp_path / "org")
    timeout = 0.5 if "slow" in case else 60.0
    settings = sequential_settings(tmp_path / "data", request_timeout_seconds=timeout)

    report, injected = _run(org_dir, settings, faults)

    assert any(k.startswith(expected_fault) for k in injected), injected  # faults did happen
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)
    if "session" in case:
        assert report.relogins >= 2
    else:
        assert report.retries >= 1
    assert state_path(settings).exists()


def test_the_same_seed_injects_the_same_faults(org_template: Path, tmp_path: Path):
    faults = FaultConfig(seed=11, error_rates={503: 0.3}, drop_rate=0.1)
    org_dir = _copy_org(org_template, tmp_path / "org")
    runs = [_run(org_dir, sequential_settings(tmp_path / f"data{i}"), faults) for i in (1, 2)]
    assert runs[0][1] == runs[1][1]
    assert runs[0][0].retries == runs[1][0].retries


def test_incremental_load_survives_faults(org_template: Path, tmp_path: Path):
    org_dir = _copy_org(org_template, tmp_path / "org")
    settings = sequential_settings(tmp_path / "data")
    _run(org_dir, settings)
    change_org(org_dir, opportunities=OPPORTUNITIES)
    faults = FaultConfig(seed=12, error_rates={503: 0.4}, drop_rate=0.2, session_expiry_every=3)
    report, injected = _run(org_dir, settings, faults)
    assert injected and report.mode == "incremental"
    assert report.objects["Opportunity"].hard_deleted_rows == 2
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)


def test_records_edited_while_paging_arrive_as_of_the_query_then_next_run(
    org_template: Path, tmp_path: Path
):
    org_dir = _copy_org(org_template, tmp_path / "org")
    settings = sequential_settings(tmp_path / "data")
    faults = FaultConfig(seed=13, modify_while_paging=5)
    with serve_org(org_dir, settings, config=EmulatorConfig(faults=faults)) as served:
        first = extract_org(served.sf, settings.raw_root, settings=settings, page_size=PAGE)
        modified = served.handle.emulator.faults.modified
        # The first run read a consistent snapshot: the org folder as it was.
        assert set(modified) == {"Opportunity", "OpportunityHistory"}
        assert all(len(ids) == 5 for ids in modified.values())
        assert_landed_equals_org(settings.raw_root, org_dir)
        # A window ends at the server's clock, in whole seconds: a week later in real life.
        time.sleep(1.1)
        second = extract_org(served.sf, settings.raw_root, settings=settings, page_size=PAGE)
        # The edits carry a SystemModstamp after the first window: the next run reads them.
        assert second.objects["Opportunity"].fetched_rows == 5
        assert second.objects["OpportunityHistory"].fetched_rows == 5
        full = sequential_settings(tmp_path / "full")
        extract_org(served.sf, full.raw_root, settings=full, mode="full")
    assert first.mode == "full"
    assert_same_landing(settings.raw_root, full.raw_root)
    assert_unique_ids(settings.raw_root)
    import pyarrow.parquet as pq

    names = pq.read_table(settings.raw_root / "Opportunity" / "Opportunity.parquet").to_pylist()
    edited = [r for r in names if r["Id"] in modified["Opportunity"]]
    assert all(r["Name"].endswith("(edited)") for r in edited)


def _seed_clean_run(org_template: Path, tmp_path: Path):
    """A committed first run, then a week of changes: what a failing run must not touch."""
    org_dir = _copy_org(org_template, tmp_path / "org")
    settings = sequential_settings(tmp_path / "data")
    _run(org_dir, settings)
    change_org(org_dir, opportunities=OPPORTUNITIES)
    return org_dir, settings, files(settings.raw_root), state_path(settings).read_bytes()


def _assert_untouched(settings, raw_before, state_before) -> None:
    assert files(settings.raw_root) == raw_before
    assert state_path(settings).read_bytes() == state_before
    leftovers = [p.name for p in settings.raw_root.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_exhausted_daily_limit_stops_cleanly(org_template: Path, tmp_path: Path):
    org_dir, settings, raw_before, state_before = _seed_clean_run(org_template, tmp_path)
    with pytest.raises(ApiLimitError) as caught:
        _run(org_dir, settings, FaultConfig(exhaust_daily_limit=True))
    message = str(caught.value)
    assert "daily API request limit is exhausted" in message and "changed nothing" in message
    _assert_untouched(settings, raw_before, state_before)


def test_guard_stops_before_the_configured_share_of_the_daily_limit(
    org_template: Path, tmp_path: Path
):
    org_dir, settings, raw_before, state_before = _seed_clean_run(org_template, tmp_path)
    guarded = settings.model_copy(
        update={"salesforce": settings.salesforce.model_copy(update={"max_api_share": 0.5})}
    )
    with pytest.raises(ApiLimitError) as caught:
        _run(org_dir, guarded, daily_api_limit=1000, api_usage=499)
    message = str(caught.value)
    assert "max_api_share=0.5" in message and "of its 1,000 daily API requests" in message
    _assert_untouched(settings, raw_before, state_before)
    # Below the share, the same run goes through and uses a few calls.
    report, _ = _run(org_dir, guarded, daily_api_limit=1000, api_usage=100)
    assert report.api_usage_before.endswith("/1000")
    assert_landed_equals_org(settings.raw_root, org_dir)


@pytest.mark.parametrize(
    "faults",
    [
        FaultConfig(seed=14, error_rates={503: 1.0}, max_consecutive=10_000),
        FaultConfig(seed=15, drop_rate=1.0, max_consecutive=10_000),
    ],
    ids=["503 forever", "connection cut forever"],
)
def test_persistent_faults_fail_cleanly(faults, org_template: Path, tmp_path: Path):
    org_dir, settings, raw_before, state_before = _seed_clean_run(org_template, tmp_path)
    with pytest.raises(ApiRequestError) as caught:
        _run(org_dir, settings, faults)
    assert "after 5 attempt(s)" in str(caught.value)
    _assert_untouched(settings, raw_before, state_before)


def test_bulk_path_survives_faults(org_template: Path, tmp_path: Path):
    org_dir = _copy_org(org_template, tmp_path / "org")
    settings = sequential_settings(tmp_path / "data", query_method="bulk", bulk_max_records=150)
    faults = FaultConfig(seed=16, error_rates={503: 0.25}, drop_rate=0.15, session_expiry_every=6)
    report, injected = _run(org_dir, settings, faults)
    assert injected
    assert {o.method for o in report.objects.values() if o.present} == {"bulk"}
    assert report.objects["Opportunity"].pages == 2
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)


# --- composed faults: one fault right after another ----------------------------------------

COMPOSED = {
    # The session expires, and logging in again meets an unavailable login server twice.
    "expiry then 503 on re-login": (
        FaultConfig(seed=21, session_expiry_every=6, relogin_errors=2, relogin_error_status=503),
        "relogin_error_503",
        "rest",
    ),
    "expiry then 429 on re-login": (
        FaultConfig(seed=22, session_expiry_every=6, relogin_errors=1, relogin_error_status=429),
        "relogin_error_429",
        "rest",
    ),
    # A Bulk result slice cut mid-download: the same locator is fetched again.
    "connection dropped during a Bulk result download": (
        FaultConfig(seed=23, bulk_result_drops=2),
        "bulk_result_drop",
        "bulk",
    ),
    # Throttling while the client polls a Bulk job for completion.
    "429 during Bulk job polling": (
        FaultConfig(seed=24, bulk_poll_429s=3),
        "bulk_poll_429",
        "bulk",
    ),
    "expiry then 502 on re-login during Bulk polling": (
        FaultConfig(
            seed=25,
            session_expiry_every=5,
            relogin_errors=1,
            relogin_error_status=502,
            bulk_poll_429s=1,
        ),
        "relogin_error_502",
        "bulk",
    ),
}


@pytest.mark.parametrize("case", list(COMPOSED), ids=list(COMPOSED))
def test_composed_faults_still_land_the_exact_record_set(
    case: str, org_template: Path, tmp_path: Path
):
    faults, expected_fault, method = COMPOSED[case]
    org_dir = _copy_org(org_template, tmp_path / "org")
    settings = sequential_settings(tmp_path / "data", query_method=method)

    report, injected = _run(org_dir, settings, faults)

    assert injected.get(expected_fault), injected  # the composed fault did happen
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)
    assert report.retries >= 1
    if "re-login" in case:
        assert report.relogins >= 1
    assert state_path(settings).exists()


def test_a_login_that_keeps_failing_stops_cleanly_and_says_so(org_template: Path, tmp_path: Path):
    org_dir, settings, raw_before, state_before = _seed_clean_run(org_template, tmp_path)
    faults = FaultConfig(session_expiry_every=4, relogin_errors=50, relogin_error_status=503)
    with pytest.raises(ApiRequestError) as caught:
        _run(org_dir, settings, faults)
    message = str(caught.value)
    assert "login again" in message and "503" in message and "attempt" in message
    _assert_untouched(settings, raw_before, state_before)


# --- concurrent loads -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["rest", "bulk"])
def test_concurrent_loads_survive_faults(method: str, org_template: Path, tmp_path: Path):
    """Four objects at a time share the session: a session that expires is renewed once for
    all of them, and every thread retries its own failures. The emulator's cap on failures in
    a row counts all threads' requests together, so a thread may meet more in a row: more
    attempts than the sequential tests."""
    org_dir = _copy_org(org_template, tmp_path / "org")
    settings = make_settings(
        tmp_path / "data",
        query_method=method,
        concurrent_objects=4,
        retry_attempts=12,
        bulk_max_records=100,
    )
    faults = FaultConfig(seed=31, error_rates={503: 0.2}, drop_rate=0.1, session_expiry_every=25)
    with serve_org(org_dir, settings, config=EmulatorConfig(faults=faults)) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings, page_size=PAGE)
        injected = dict(served.handle.emulator.faults.injected)
        jobs_left = served.handle.emulator.bulk_jobs.list()["records"]
    assert injected.get("error_503") and injected.get("drop")
    assert report.retries >= 1 and report.relogins >= 1
    assert {o.method for o in report.objects.values() if o.present} == {method}
    # Every job the client learnt of is deleted; a job whose creation answer was dropped is
    # one it never knew (left to Salesforce to expire). Four threads make the draws' order,
    # and so which requests are dropped, vary from run to run.
    assert len(jobs_left) <= injected.get("drop_bulk_job_created", 0), jobs_left
    # Each object counts its own thread's calls; the run's total adds describe and COUNT().
    assert sum(o.api_calls for o in report.objects.values()) < report.api_calls
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)


def test_a_failure_stops_the_concurrent_loads_and_deletes_their_bulk_jobs(
    org_template: Path, tmp_path: Path
):
    org_dir, settings, raw_before, state_before = _seed_clean_run(org_template, tmp_path)
    concurrent = make_settings(
        settings.data_dir, query_method="bulk", concurrent_objects=4, bulk_max_records=20
    )
    # The guard trips after about 40 calls, while several Bulk jobs are being read.
    config = EmulatorConfig(daily_api_limit=1000, api_usage=460)
    with serve_org(org_dir, concurrent, config=config) as served:
        with pytest.raises(ApiLimitError, match="max_api_share"):
            extract_org(served.sf, concurrent.raw_root, settings=concurrent, mode="full")
        jobs_left = served.handle.emulator.bulk_jobs.list()["records"]
    assert jobs_left == []
    _assert_untouched(settings, raw_before, state_before)
