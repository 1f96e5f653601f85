"""Hostile input that a run must refuse before it does any work: a week it must not prepare,
settings it cannot work with, a broken Data Export, a data dir held by another run. Each case
asserts the exit code, the one line on stderr, and that nothing was published (no packets, no
warehouse, no quality report: a refusal's one line says all)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from robustness.conftest import WEEK, Place
from robustness.exports import edit_bytes, edit_rows, read_rows, write_rows
from salesprep.weeks import Week

TODAY = datetime.now(UTC)
THIS_WEEK = Week.containing(TODAY.date())


def _nothing_published(place: Place) -> None:
    assert place.published() == {}, place.published()
    assert not (place.data / "raw").exists()  # nothing was extracted either


def _refused(result, place: Place, *fragments: str, code: int = 1) -> None:
    assert result.code == code, result.err[-2000:]
    line = result.line
    for fragment in fragments:
        assert fragment in line, line
    _nothing_published(place)


# --- the week guard (issue 12, item 1) -----------------------------------------------------


def test_the_current_week_has_not_ended(place, run):
    result = run(place.args(week=THIS_WEEK))
    _refused(result, place, f"week {THIS_WEEK} has not ended", "--allow-partial-week")


def test_a_week_that_has_not_started(place, run):
    week = THIS_WEEK.shift(2)
    _refused(run(place.args(week=week)), place, f"week {week} has not started", "choose a week")


def test_a_week_before_the_orgs_first_data(place, run):
    week = Week.parse("2020-W53")
    _refused(run(place.args(week=week)), place, "before the org's first data", "or a later week")


def test_a_week_after_the_orgs_freshest_data(place, run):
    week = WEEK.shift(2)  # the org's data ends in WEEK
    _refused(run(place.args(week=week)), place, "after the org's freshest data", str(WEEK))


def test_a_week_the_data_stops_in_the_middle_of(place, run):
    # The export was taken on Wednesday: activity and deals stop there.
    cutoff = f"{(WEEK.start_date + timedelta(days=2)).isoformat()}T12:00:00.000Z"
    for name in ("Task", "Event", "Opportunity", "OpportunityHistory"):
        edit_rows(place.org, name, lambda rows: [r for r in rows if r["SystemModstamp"] < cutoff])
    _refused(run(place.args()), place, f"week {WEEK} ends", "freshest data is from", "partial")


def test_even_a_partial_week_is_refused_when_no_data_reaches_it(place, run):
    result = run(place.args("--allow-partial-week", week=THIS_WEEK))
    _refused(result, place, "after the org's freshest data")


@pytest.mark.parametrize("label", ["2026-W60", "26-W1", "2026-47"])
def test_a_week_label_that_is_not_an_iso_week(place, run, label):
    result = run(["run", "--week", label, "--org", str(place.org)])
    assert result.code == 2
    assert label in result.err and "Traceback" not in result.err
    _nothing_published(place)


# --- settings that say what to do (issue 12, item 8) ---------------------------------------


def test_a_data_dir_that_is_a_file(place, run):
    place.data.parent.mkdir(parents=True, exist_ok=True)
    place.data.write_text("not a folder")
    result = run(place.args())
    assert result.code == 1
    line = result.line
    assert "setting data_dir" in line and "is a file" in line and "at a folder" in line
    assert "Errno" not in line
    assert place.data.read_text() == "not a folder"


def test_a_data_dir_below_a_file(place, run):
    (place.root / "blocker").write_text("x")
    args = place.args()
    args[args.index("--data-dir") + 1] = str(place.root / "blocker" / "data")
    result = run(args)
    assert result.code == 1 and "setting data_dir" in result.line
    assert "cannot be created" in result.line and "blocker is a file" in result.line


def test_a_data_dir_that_cannot_be_created(place, run):
    result = run(place.args("--data-dir", "/proc/salesprep-data"))
    assert result.code == 1 and "setting data_dir" in result.line
    assert "cannot be written" in result.line and "write permission" in result.line


def test_a_shared_folder_with_an_unknown_scheme_fails_at_once(place, run):
    started = time.monotonic()
    result = run(place.args("--shared-folder", "foo://team/1on1s"))
    assert result.code == 1
    assert "setting shared_folder" in result.line and "'foo' is not a storage scheme" in result.line
    assert "s3://" in result.line
    assert "Protocol not known" not in result.line
    assert time.monotonic() - started < 10
    _nothing_published(place)


def test_a_shared_folder_whose_scheme_needs_a_missing_package(place, run):
    result = run(place.args("--shared-folder", "gs://bucket/1on1s"))
    assert result.code == 1 and "needs a package that is not installed" in result.line
    _nothing_published(place)


def test_a_shared_folder_that_is_a_file(place, run):
    place.shared.parent.mkdir(parents=True, exist_ok=True)
    place.shared.write_text("x")
    result = run(place.args())
    assert (
        result.code == 1 and "setting shared_folder" in result.line and "is a file" in result.line
    )
    assert not (place.data / "raw").exists()


def test_a_warehouse_path_that_is_a_folder(place, run):
    (place.root / "bi").mkdir()
    result = run(place.args("--warehouse", str(place.root / "bi")))
    assert result.code == 1 and "setting warehouse_path" in result.line
    assert "is a folder" in result.line and "salesprep.duckdb" in result.line
    _nothing_published(place)


def test_a_warehouse_path_below_a_file(place, run):
    (place.root / "bi").write_text("x")
    result = run(place.args("--warehouse", str(place.root / "bi" / "salesprep.duckdb")))
    assert result.code == 1 and "setting warehouse_path" in result.line
    _nothing_published(place)


@pytest.mark.parametrize(
    "value, problem",
    [
        ('{"conn_type": "salesforce", "login": "ops@acme.com",', "is not valid JSON"),
        ('["salesforce"]', "neither a JSON object nor a connection URI"),
        ('"salesforce"', "neither a JSON object nor a connection URI"),
    ],
    ids=["truncated", "a-list", "a-string"],
)
def test_a_malformed_salesforce_connection_is_named(place, run, value, problem):
    result = run(place.args(org=False), env={"AIRFLOW_CONN_SALESFORCE_DEFAULT": value})
    assert result.code == 1
    assert "AIRFLOW_CONN_SALESFORCE_DEFAULT" in result.line and problem in result.line
    assert "not found" not in result.line
    _nothing_published(place)


def test_a_missing_salesforce_connection_says_how_to_define_it(place, run):
    result = run(place.args(org=False), env={"SALESPREP_SALESFORCE__CONN_ID": "sf_nowhere"})
    assert result.code == 1
    assert "'sf_nowhere' not found" in result.line and "AIRFLOW_CONN_SF_NOWHERE" in result.line
    _nothing_published(place)


def test_a_salesforce_connection_without_credentials(place, run):
    conn = '{"conn_type": "salesforce", "host": "http://127.0.0.1:9"}'
    result = run(place.args(org=False), env={"AIRFLOW_CONN_SALESFORCE_DEFAULT": conn})
    assert result.code == 1
    assert "has no login" in result.line and "security_token" in result.line
    _nothing_published(place)


def test_a_config_file_that_is_not_yaml(place, run):
    config = place.root / "salesprep.yml"
    config.write_text("org_timezone: [Europe/Berlin\n")
    result = run(place.args(), env={"SALESPREP_CONFIG": str(config)})
    assert result.code == 1 and "not valid YAML" in result.line and str(config) in result.line
    _nothing_published(place)


def test_an_unknown_timezone(place, run):
    result = run(place.args(), env={"SALESPREP_ORG_TIMEZONE": "Mars/Olympus"})
    assert result.code == 1
    assert "org_timezone" in result.line and "IANA timezone" in result.line
    _nothing_published(place)


def test_a_misspelt_setting_in_the_config_file(place, run):
    config = place.root / "salesprep.yml"
    config.write_text("guards:\n  allow_partial_weeks: true\n")
    result = run(place.args(), env={"SALESPREP_CONFIG": str(config)})
    assert result.code == 1 and "guards.allow_partial_weeks" in result.line
    _nothing_published(place)


# --- a broken Data Export (org folder) -------------------------------------------------------


def _latin1(org: Path) -> None:
    edit_rows(org, "Account", lambda rows: rows[0].update(Name="Café Müller GmbH"))
    edit_bytes(org, "Account", lambda data: data.decode("utf-8").encode("latin-1"))


def _edit_line(name: str, number: int, change) -> Callable[[Path], None]:
    """Damage line `number` (0: the header) of `<name>.csv` with `change(bytes) -> bytes`."""

    def damage(org: Path) -> None:
        lines = (org / f"{name}.csv").read_bytes().split(b"\n")
        lines[number] = change(lines[number])
        (org / f"{name}.csv").write_bytes(b"\n".join(lines))

    return damage


_ragged_row = _edit_line("Task", 3, lambda line: line + b",one too many")
_short_row = _edit_line("Opportunity", 2, lambda line: line.rsplit(b",", 3)[0])
# A hand-edited file: a line break inside a value, without the quotes a CSV needs.
_unquoted_newline = _edit_line("Account", 1, lambda line: line.replace(b",", b"\n,", 1))
_unterminated_quote = _edit_line("Account", 2, lambda line: b'"' + line)


def _semicolons(org: Path) -> None:
    header, rows = read_rows(org, "Opportunity")
    write_rows(org, "Opportunity", header, rows, delimiter=";")


def _renamed_id(org: Path) -> None:
    edit_bytes(org, "Opportunity", lambda data: data.replace(b"Id,", b"ID Number,", 1))


def _twice(org: Path) -> None:
    edit_bytes(org, "Account", lambda data: data.replace(b",Name,", b",Id,", 1))


def _drop_column(org: Path) -> None:
    header, rows = read_rows(org, "Opportunity")
    kept = [h for h in header if h != "StageName"]
    write_rows(org, "Opportunity", kept, [{h: r[h] for h in kept} for r in rows])


BROKEN_EXPORTS = {
    "not UTF-8 (Latin-1)": (_latin1, "Account.csv is not UTF-8", "iconv"),
    "NUL byte": (
        lambda org: edit_bytes(org, "Task", lambda d: d.replace(b"Call", b"Ca\x00ll", 1)),
        "Task.csv has a NUL byte",
        "fix the file",
    ),
    "a row with one value too many": (_ragged_row, "Task.csv line 4 has", "values for the"),
    "a row cut short": (_short_row, "Opportunity.csv line 3 has", "values for the"),
    "a line break without quotes": (_unquoted_newline, "Account.csv line", "unquoted comma"),
    "an unterminated quote": (_unterminated_quote, "Account.csv line", "fix the file"),
    "separated by semicolons": (_semicolons, "Opportunity.csv is not separated by commas", ""),
    "no Id column": (_renamed_id, "Opportunity.csv has no Id column", "need their Id"),
    "a column twice": (_twice, "Account.csv has the column Id twice", ""),
    "a required column missing": (_drop_column, "lacks the column(s) StageName", "include them"),
    "a required object missing": (
        lambda org: (org / "User.csv").unlink(),
        "has no User.csv, which salesprep requires",
        "include User",
    ),
    "a date that is not a date": (
        lambda org: edit_rows(org, "Opportunity", lambda r: r[0].update(CreatedDate="yesterday")),
        "field CreatedDate (datetime): not a datetime: yesterday",
        "fix the value",
    ),
    "an amount with a decimal comma": (
        lambda org: edit_rows(org, "Opportunity", lambda r: r[0].update(Amount="12,5")),
        "field Amount (currency): not a number: 12,5",
        "",
    ),
    "a boolean that is neither": (
        lambda org: edit_rows(org, "Task", lambda r: r[0].update(IsClosed="maybe")),
        "field IsClosed (boolean): not a boolean: maybe",
        "",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_EXPORTS), ids=list(BROKEN_EXPORTS))
def test_a_broken_export_is_refused_with_the_file_and_line(place, run, case):
    damage, *fragments = BROKEN_EXPORTS[case]
    damage(place.org)
    result = run(place.args())
    _refused(result, place, "org folder", *[f for f in fragments if f])


def test_an_org_folder_that_does_not_exist(place, run):
    result = run(place.args("--org", str(place.root / "nope")))
    _refused(result, place, "nope", "does not exist")


def test_an_org_folder_that_is_a_file(place, run):
    (place.root / "export.zip").write_bytes(b"PK\x03\x04")
    result = run(place.args("--org", str(place.root / "export.zip")))
    _refused(result, place, "export.zip", "is not a folder")


# --- the run lease (issue 12, item 5) --------------------------------------------------------


def _lease(place: Place, **fields) -> Path:
    path = place.data / "state" / "run.lease"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields), encoding="utf-8")
    return path


def _host() -> str:
    from salesprep.runs.process_owner import this_host

    return this_host()


def test_a_run_while_another_run_holds_the_data_dir_is_refused_naming_it(place, run, live_pid):
    lease = _lease(
        place, dag_id="salesprep-cli", run_id="other", host=_host(), pid=live_pid, since="then"
    )
    before = lease.read_bytes()
    result = run(place.args())
    assert result.code == 1
    assert f"in use by salesprep run (pid {live_pid} on {_host()})" in result.line
    assert "--wait" in result.line
    assert lease.read_bytes() == before
    assert place.published() == {}


def test_waiting_for_a_busy_data_dir_gives_up_after_the_wait(place, run, live_pid):
    _lease(place, dag_id="salesprep-cli", run_id="other", host=_host(), pid=live_pid)
    started = time.monotonic()
    result = run(place.args("--wait", "1.5"))
    assert result.code == 1 and "after waiting 1.5s" in result.line
    assert time.monotonic() - started >= 1.5


def test_a_dag_run_holding_the_data_dir_until_its_expiry(place, run):
    expires = (TODAY + timedelta(hours=2)).isoformat(timespec="seconds")
    _lease(place, dag_id="salesprep_weekly", run_id="manual__2026-12-07", expires_at=expires)
    result = run(place.args())
    assert result.code == 1 and "DAG run salesprep_weekly/manual__2026-12-07" in result.line


@pytest.mark.parametrize("how", ["killed process", "expired on another host", "expired DAG run"])
def test_a_stale_lease_is_taken_over(place, run, dead_pid, how):
    past = (TODAY - timedelta(minutes=1)).isoformat(timespec="seconds")
    if how == "killed process":
        _lease(place, dag_id="salesprep-cli", run_id="old", host=_host(), pid=dead_pid)
    elif how == "expired on another host":
        _lease(
            place, dag_id="salesprep-cli", run_id="old", host="elsewhere", pid=1, expires_at=past
        )
    else:
        _lease(place, dag_id="salesprep_weekly", run_id="scheduled__x", expires_at=past)
    # The run gets past the lease; this week is then refused by the week guard.
    result = run(place.args(week=THIS_WEEK))
    assert result.code == 1 and "has not ended" in result.line
    assert not (place.data / "state" / "run.lease").exists()  # taken over, then released


def test_a_lease_file_that_cannot_be_read(place, run):
    path = place.data / "state" / "run.lease"
    path.parent.mkdir(parents=True)
    path.write_text("{half")
    result = run(place.args())
    assert result.code == 1 and "run.lease" in result.line and "delete it by hand" in result.line
