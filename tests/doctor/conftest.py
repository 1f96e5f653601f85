"""Fixtures for the doctor tests: one generated org for all of them, the doctor command run
in-process (as a user runs it, through `salesprep.cli.main`), and an emulator reached through
the configured Airflow connection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from salesprep.cli import main
from salesprep.demo_org import generate_org
from salesprep.emulator import Credentials, EmulatorConfig, EmulatorHandle, run_emulator
from salesprep.salesforce.connection import conn_env_var, salesforce_conn_env
from salesprep.weeks import Week

WEEK = Week.parse("2026-W47")
CONN_VAR = conn_env_var("salesforce_default")


@pytest.fixture(scope="session")
def demo_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated org whose data ends with WEEK (shared: read only)."""
    path = tmp_path_factory.mktemp("doctor") / "org"
    generate_org(path, reps=6, managers=2, weeks=8, seed=3, end_week=WEEK)
    return path


@dataclass
class DoctorRun:
    """What one `salesprep doctor` printed and wrote."""

    code: int
    out: str
    err: str
    report: dict[str, Any]

    def check(self, name: str) -> dict[str, Any]:
        [found] = [c for c in self.report["checks"] if c["name"] == name]
        return found

    def status(self, name: str) -> str:
        return self.check(name)["status"]

    def statuses(self) -> dict[str, str]:
        return {c["name"]: c["status"] for c in self.report["checks"]}

    def printed(self, name: str) -> list[str]:
        """The printed line of check `name`, and its fix line if any."""
        lines = self.out.splitlines()
        for i, line in enumerate(lines):
            if line[6:].startswith(f"{name}: "):
                has_fix = i + 1 < len(lines) and lines[i + 1].startswith("      fix: ")
                return lines[i : i + 2] if has_fix else [line]
        raise AssertionError(f"no printed line for {name!r} in:\n{self.out}")


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment with nothing configured: data under tmp_path, no settings file, no
    Salesforce connection in the environment."""
    monkeypatch.delenv("SALESPREP_CONFIG", raising=False)
    monkeypatch.delenv("SALESPREP_SHARED_FOLDER", raising=False)
    monkeypatch.delenv("SALESPREP_WAREHOUSE_PATH", raising=False)
    monkeypatch.delenv(CONN_VAR, raising=False)
    monkeypatch.setenv("SALESPREP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def doctor(isolated: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., DoctorRun]:
    """Run `salesprep doctor --week WEEK [args] --json <tmp>/doctor.json`."""
    counter = iter(range(1000))

    def run(*args: str) -> DoctorRun:
        json_path = isolated / f"doctor-{next(counter)}.json"
        code = main(["doctor", "--week", WEEK.label, *args, "--json", str(json_path)])
        captured = capsys.readouterr()
        report = json.loads(json_path.read_text(encoding="utf-8"))
        return DoctorRun(code, captured.out, captured.err, report)

    return run


@contextmanager
def configured_connection(
    org_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: EmulatorConfig | None = None,
    **conn: Any,
) -> Iterator[EmulatorHandle]:
    """Serve `org_dir` and point AIRFLOW_CONN_SALESFORCE_DEFAULT at it: doctor without --org
    checks it as it would check a real org."""
    with run_emulator(org_dir, config=config) as handle:
        for name, value in salesforce_conn_env(handle.base_url, Credentials(), **conn).items():
            monkeypatch.setenv(name, value)
        yield handle
