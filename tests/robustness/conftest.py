"""The bad-input suite's fixtures: ONE generated org (copied per case, then made hostile), one
clean published run of it (run in a pseudo-terminal, as a person runs it, and copied where a
case needs something already published), and the `salesprep` command line run in this
process, or in a subprocess where a case kills it."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from salesprep.cli import main
from salesprep.demo_org import generate_org
from salesprep.weeks import Week

WEEK = Week.parse("2026-W47")
ORG_WEEKS = 8
# Retries back off for milliseconds: a case that retries must not wait for seconds.
FAST = {
    "SALESPREP_SALESFORCE__RETRY_ATTEMPTS": "4",
    "SALESPREP_SALESFORCE__RETRY_BACKOFF_SECONDS": "0.01",
    "SALESPREP_SALESFORCE__RETRY_BACKOFF_MAX_SECONDS": "0.05",
}


@dataclass
class Result:
    """One `salesprep` command: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The one line the command printed about the error (asserts there is exactly one)."""
        lines = [line for line in self.err.splitlines() if line.startswith("salesprep ")]
        assert len(lines) == 1, self.err[-3000:]
        assert "Traceback" not in self.err, self.err[-3000:]
        return lines[0]


@dataclass
class Place:
    """Where one case runs: its org copy, data dir and shared folder."""

    root: Path
    org: Path
    data: Path
    shared: Path
    # What the run drew in its terminal (the published baseline only).
    transcript: str = ""

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse" / "salesprep.duckdb"

    def args(self, *extra: str, week: Week = WEEK, org: bool = True) -> list[str]:
        args = ["run", "--week", week.label, "--data-dir", str(self.data)]
        args += ["--shared-folder", str(self.shared)]
        return [*args, *(["--org", str(self.org)] if org else []), *extra]

    def published(self) -> dict[str, str]:
        """Every published file (shared folder and warehouse) with its content hash."""
        files = {}
        for base in (self.shared, self.warehouse.parent):
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    if path.is_file() and (base == self.shared or path == self.warehouse):
                        files[str(path.relative_to(self.root))] = _sha(path)
        return files


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _drop_stale_log_handlers() -> None:
    """An in-process `salesprep` command of an earlier test (doctor's, say) leaves its log
    handler on the root logger, writing to that test's captured stream, now closed: drop it,
    or every log line of this case prints a "Logging error" traceback."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        root.removeHandler(handler)


@pytest.fixture(autouse=True)
def no_stale_log_handlers() -> None:
    _drop_stale_log_handlers()


@pytest.fixture(autouse=True)
def quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIRFLOW_CONN_SALESFORCE_DEFAULT", "SALESPREP_CONFIG", "SALESPREP_ORG_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def org_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one generated org every case copies: 6 reps under 2 managers, 8 weeks to WEEK."""
    org = tmp_path_factory.mktemp("robustness-org") / "org"
    generate_org(org, reps=6, managers=2, weeks=ORG_WEEKS, seed=4, end_week=WEEK)
    return org


@pytest.fixture
def place(tmp_path: Path, org_template: Path) -> Place:
    org = tmp_path / "org"
    shutil.copytree(org_template, org)
    return Place(tmp_path, org, tmp_path / "data", tmp_path / "shared")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`salesprep ARGS` in this process, with `env` set for the call."""

    def _run(args: list[str], env: dict[str, str] | None = None) -> Result:
        root = logging.getLogger()
        handlers = list(root.handlers)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            capsys.readouterr()
            try:
                code = main(args)
            except SystemExit as exc:  # argparse: bad command-line input
                code = int(exc.code or 0)
            finally:
                # main() configures logging to this case's captured stderr: undo it.
                for handler in [h for h in root.handlers if h not in handlers]:
                    root.removeHandler(handler)
            captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


@pytest.fixture(scope="session")
def published_run(tmp_path_factory: pytest.TempPathFactory, org_template: Path) -> Place:
    """WEEK run once, cleanly, on a copy of the org, in a terminal as a person runs it: a
    baseline of what a week publishes, and of what the terminal shows while it runs."""
    root = tmp_path_factory.mktemp("robustness-published")
    place = Place(root, root / "org", root / "data", root / "shared")
    shutil.copytree(org_template, place.org)
    code, place.transcript = run_in_terminal(place.args())
    assert code == 0, place.transcript[-3000:]
    return place


def run_in_terminal(
    args: list[str], *, columns: int = 120, rows: int = 40, timeout: float = 900
) -> tuple[int, str]:
    """`salesprep ARGS` in a subprocess whose stdin, stdout and stderr are a pseudo-terminal
    (stdlib `pty`) of `columns` x `rows`: its exit code and everything it drew."""
    environment = {**os.environ, **FAST, "TERM": "xterm-256color"}
    for name in ("AIRFLOW_CONN_SALESFORCE_DEFAULT", "NO_COLOR", "COLUMNS", "LINES"):
        environment.pop(name, None)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "salesprep.cli", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environment,
        start_new_session=True,
    )
    os.close(follower)
    drawn = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                process.kill()
                raise AssertionError(f"salesprep {' '.join(args)} ran past {timeout:g}s")
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
        code = process.wait()
    return code, drawn.decode("utf-8", errors="replace")


@pytest.fixture
def republish(tmp_path: Path, published_run: Place) -> Place:
    """A copy of the clean published run (org, data dir, shared folder) for one case."""
    copy = Place(tmp_path, tmp_path / "org", tmp_path / "data", tmp_path / "shared")
    for name in ("org", "data", "shared"):
        shutil.copytree(published_run.root / name, tmp_path / name, symlinks=True)
    # The lease of the baseline run is gone; the copy's state points at its own landing zone.
    return copy


class Spawned(subprocess.Popen):
    """A `salesprep` subprocess whose output goes to files (a pipe nobody reads would fill
    and block the run); `output()` reads them once it has ended."""

    def output(self) -> tuple[str, str]:
        self.wait()
        return tuple(path.read_text(encoding="utf-8") for path in self.logs)  # type: ignore[return-value]


def spawn(args: list[str], logs: Path, env: dict[str, str] | None = None) -> Spawned:
    """`salesprep ARGS` in a subprocess (for the cases that kill it), output under `logs`."""
    environment = {**os.environ, **FAST, **(env or {})}
    environment.pop("AIRFLOW_CONN_SALESFORCE_DEFAULT", None)
    logs.mkdir(parents=True, exist_ok=True)
    paths = (logs / "stdout.txt", logs / "stderr.txt")
    with paths[0].open("w") as out, paths[1].open("w") as err:
        process = Spawned(
            [sys.executable, "-m", "salesprep.cli", *args],
            env=environment,
            stdout=out,
            stderr=err,
            text=True,
        )
    process.logs = paths
    return process


@pytest.fixture
def dead_pid() -> Iterator[int]:
    """The pid of a process that has exited (what a killed run leaves in its names)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    yield process.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a process that runs for the duration of the case (a live lease holder)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()
