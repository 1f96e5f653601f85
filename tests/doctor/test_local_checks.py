"""Doctor's checks of the deployment itself: the Airflow connection, the settings file, the
folders a run writes, and that doctor writes nothing but its --json file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from salesprep.cli import main
from salesprep.doctor.model import Status
from salesprep.doctor.storage import (
    local_folder_check,
    shared_folder_check,
    warehouse_check,
)

from .conftest import CONN_VAR, WEEK, DoctorRun

Doctor = Callable[..., DoctorRun]
_ORG_STAGES = ("login", "API version", "API calls today", "access", "org shape")


def test_malformed_connection_json_fails_with_a_clear_fix(
    doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONN_VAR, '{"conn_type": "salesforce", "login": ')
    run = doctor()
    assert run.code == 1
    connection = run.check("Airflow connection")
    assert connection["status"] == "FAIL"
    assert (
        f"'salesforce_default' in environment variable {CONN_VAR} is not valid JSON"
        in (connection["detail"])
    )
    assert "Expecting value: line 1 column 38" in connection["detail"]
    assert connection["fix"].startswith(f"set {CONN_VAR} to valid JSON, e.g. {{")
    for name in _ORG_STAGES:
        assert run.status(name) == "SKIP", name
    # The local checks still ran.
    assert run.status("settings") == "OK" and run.status("data dir") == "OK"


def test_a_bad_extra_string_in_the_connection_fails(
    doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONN_VAR, '{"conn_type": "salesforce", "login": "a", "extra": "{bad"}')
    connection = doctor().check("Airflow connection")
    assert connection["status"] == "FAIL"
    assert "'extra' string that is not valid JSON" in connection["detail"]


def test_a_missing_connection_fails_naming_how_to_create_it(doctor: Doctor) -> None:
    run = doctor()
    connection = run.check("Airflow connection")
    assert connection["status"] == "FAIL"
    assert "'salesforce_default' not found" in connection["detail"]
    assert f"the environment variable {CONN_VAR}" in connection["fix"]
    assert run.code == 1


def test_a_wrong_password_fails_the_login(
    doctor: Doctor, demo_org: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesprep.emulator import Credentials, run_emulator
    from salesprep.salesforce.connection import salesforce_conn_env

    with run_emulator(demo_org) as handle:
        wrong = Credentials(password="not-the-password")
        for name, value in salesforce_conn_env(handle.base_url, wrong).items():
            monkeypatch.setenv(name, value)
        run = doctor()
    login = run.check("login")
    assert login["status"] == "FAIL"
    assert "security token" in login["fix"]
    assert run.status("API version") == "SKIP"


def test_an_invalid_settings_file_fails_and_skips_the_folders(
    doctor: Doctor, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated / "salesprep.yaml"
    config.write_text("org_timezone: Mars/Olympus\n", encoding="utf-8")
    monkeypatch.setenv("SALESPREP_CONFIG", str(config))
    run = doctor()
    settings = run.check("settings")
    assert settings["status"] == "FAIL"
    assert f"settings file {config}" in settings["detail"]
    assert "'org_timezone'" in settings["detail"] and "'Mars/Olympus'" in settings["detail"]
    assert run.status("storage") == "SKIP"


def test_an_unreadable_settings_file_fails(
    doctor: Doctor, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESPREP_CONFIG", str(isolated / "missing.yaml"))
    settings = doctor().check("settings")
    assert settings["status"] == "FAIL" and "cannot read the config file" in settings["detail"]


def test_unwritable_data_dir_and_unknown_shared_folder_scheme_fail(
    doctor: Doctor, demo_org: Path, isolated: Path
) -> None:
    blocker = isolated / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    run = doctor(
        "--org", str(demo_org), "--data-dir", str(blocker / "data"), "--shared-folder", "foo://x"
    )
    assert run.code == 1
    data_dir = run.check("data dir")
    assert data_dir["status"] == "FAIL"
    assert data_dir["detail"] == f"{blocker / 'data'} cannot be created: {blocker} is a file"
    assert "--data-dir" in data_dir["fix"]
    assert run.status("warehouse") == "FAIL"  # it lives in the data dir
    shared = run.check("shared folder")
    assert shared["status"] == "FAIL"
    assert "'foo' is not a storage scheme fsspec knows" in shared["detail"]
    assert "s3://" in shared["fix"]
    line, fix = run.printed("shared folder")
    assert line.startswith("FAIL  shared folder: ") and "--shared-folder" in fix
    # The org itself is fine.
    assert all(s != "FAIL" for n, s in run.statuses().items() if n.startswith("access"))


def test_a_scheme_without_its_package_fails_naming_it() -> None:
    pytest.importorskip("fsspec")
    # s3fs is a dev dependency (tests/storage); gcsfs is only the `gcs` extra.
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed here")
    check = shared_folder_check("gs://bucket/1on1s")
    assert check.status is Status.FAIL
    assert "the gs:// scheme needs a package that is not installed" in check.detail


def test_a_remote_folder_is_probed_and_left_clean() -> None:
    import fsspec

    check = shared_folder_check("memory://doctor-probe/shared")
    assert check.status is Status.OK
    assert fsspec.filesystem("memory").find("/doctor-probe") == []  # the probe is gone


def test_folders_that_are_files_and_missing_folders(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    is_file = local_folder_check("data dir", a_file, "SALESPREP_DATA_DIR")
    assert is_file.status is Status.FAIL and "is a file, not a folder" in is_file.detail
    missing = local_folder_check("data dir", tmp_path / "new" / "deeper", "SALESPREP_DATA_DIR")
    assert missing.status is Status.OK
    assert f"the run creates it in {tmp_path}, which is writable" in missing.detail
    assert not (tmp_path / "new").exists()
    folder = warehouse_check(tmp_path)
    assert folder.status is Status.FAIL and "is a folder" in folder.detail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission bits")
def test_a_read_only_folder_fails(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        check = local_folder_check("data dir", locked / "data", "SALESPREP_DATA_DIR")
    finally:
        locked.chmod(0o700)
    assert check.status is Status.FAIL and "refuses a new file" in check.detail


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            stat = path.stat()
            found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


def test_doctor_writes_nothing_but_its_json_file(
    demo_org: Path,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir, shared, cwd, out = (isolated / n for n in ("data", "shared", "cwd", "out"))
    for folder in (data_dir / "state", shared / "2026-W46", cwd, out):
        folder.mkdir(parents=True)
    (data_dir / "state" / "salesforce_extract_state.json").write_text("{}", encoding="utf-8")
    (shared / "2026-W46" / "index.html").write_text("<p>last week</p>", encoding="utf-8")
    monkeypatch.chdir(cwd)
    roots = (data_dir, shared, cwd, demo_org, out)
    before = _snapshot(*roots)
    args = ["doctor", "--org", str(demo_org), "--week", WEEK.label, "--shared-folder", str(shared)]
    assert main(args) == 0
    assert _snapshot(*roots) == before
    json_path = out / "doctor.json"
    assert main([*args, "--json", str(json_path)]) == 0
    after = _snapshot(*roots)
    assert after.pop(str(json_path))[0] > 0
    assert after == before
    printed = capsys.readouterr().out
    assert printed.count("salesprep doctor: org folder") == 2


def test_json_needs_an_existing_folder(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--json", str(isolated / "no-such-folder" / "doctor.json")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_postgres_warehouse_is_checked_on_its_server() -> None:
    """On the postgres target the warehouse is a server: it must answer; a database that
    does not exist yet is made by the first run."""
    from salesprep.config import PostgresSettings
    from salesprep.doctor.storage import postgres_warehouse_check

    target = PostgresSettings(database="salesprep_doctor_absent_db", schema_name="bi")
    check = postgres_warehouse_check(target)
    if check.status is Status.FAIL:
        pytest.skip(f"PostgreSQL not reachable here: {check.detail}")
    assert check.status is Status.OK
    assert "database salesprep_doctor_absent_db is created by the first run" in check.detail
    assert "schema bi_build, BI reads bi" in check.detail
    # Nothing listens on port 9: the line names the server and the settings to fix.
    down = postgres_warehouse_check(target.model_copy(update={"port": 9}))
    assert down.status is Status.FAIL
    assert f"Postgres at {target.host}:9 as postgres cannot be reached" in down.detail
    assert "SALESPREP_DBT_POSTGRES_HOST" in down.fix
