"""Each measured step runs in its own child process: its wall time, CPU time and peak RSS come
from that process alone (`os.wait4`), so one step's memory never shows up in another's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STEP_MODULE = "salesprep_bench.steps"
# The checkout's bench/ folder, which holds this package (dev-only: not in the salesprep wheel).
# Every child process gets it on its PYTHONPATH (`bench_pythonpath`); results and work files
# go under it.
BENCH_DIR = Path(__file__).resolve().parents[1]
_LOG_TAIL_CHARS = 3000


class BenchStepError(RuntimeError):
    """A benchmarked step failed; the message names the step and ends with its log's tail."""


@dataclass(frozen=True)
class ChildRun:
    """One child process: wall seconds (parent's clock, process start included), CPU seconds,
    peak RSS, and the JSON the step wrote (its own timings and counts)."""

    name: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def inner_seconds(self) -> float:
        """The step's own timing (after imports), or the wall time when it reports none."""
        return float(self.result.get("seconds", self.wall_seconds))


def run_process(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path | None = None,
    stdout_path: Path | None = None,
) -> tuple[float, float, int]:
    """Run `command`, wait for it with `os.wait4` and return (wall s, CPU s, peak RSS bytes).

    stderr (and stdout, unless `stdout_path` is given) go to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log, _open_or_none(stdout_path) as out:
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                list(command),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out if out is not None else log,
                stderr=log,
            )
        except OSError as exc:
            raise BenchStepError(
                f"benchmark step {name}: cannot start {command[0]}: {exc}"
            ) from exc
        watcher = _PeakWatcher(process.pid)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        watcher.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchStepError(
            f"benchmark step {name} failed (exit {process.returncode}); log {log_path}:\n"
            + _tail(log_path)
        )
    # ru_maxrss (KiB) is no less than the parent's RSS when it forked: Linux carries the old
    # memory map's high-water mark across exec. The child's own VmHWM, polled, has no such floor.
    peak = watcher.peak or usage.ru_maxrss * 1024
    return wall, usage.ru_utime + usage.ru_stime, peak


def run_step(
    name: str,
    step: str,
    args: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    work_dir: Path,
) -> ChildRun:
    """Run `salesprep_bench.steps` `step` with `args` in a fresh Python process."""
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{time.monotonic_ns()}"
    args_path = work_dir / f"{stem}.args.json"
    result_path = work_dir / f"{stem}.result.json"
    args_path.write_text(json.dumps(args, default=str), encoding="utf-8")
    command = [sys.executable, "-m", STEP_MODULE, step, str(args_path), str(result_path)]
    wall, cpu, rss = run_process(name, command, env=env, log_path=work_dir / f"{stem}.log")
    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchStepError(f"benchmark step {name} wrote no readable result: {exc}") from exc
    # The step's own reading at its end is exact; the polled one may miss a last short peak.
    rss = max(rss, int(result.pop(PEAK_KEY, 0) or 0))
    return ChildRun(
        name=name, wall_seconds=wall, cpu_seconds=cpu, peak_rss_bytes=rss, result=result
    )


def bench_pythonpath(environ: Mapping[str, str]) -> str:
    """`environ`'s PYTHONPATH with the bench folder first, so that `python -m salesprep_bench.*`
    imports in a child process started from anywhere (pytest puts it on sys.path only)."""
    parts = [str(BENCH_DIR), *environ.get("PYTHONPATH", "").split(os.pathsep)]
    return os.pathsep.join(dict.fromkeys(part for part in parts if part))


PEAK_KEY = "_vm_hwm_bytes"
_POLL_SECONDS = 0.1


def vm_hwm_bytes(pid: int | str = "self") -> int | None:
    """A process's peak RSS so far (VmHWM of /proc/<pid>/status), None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class _PeakWatcher:
    """Polls a running process's VmHWM (it only grows) until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            value = vm_hwm_bytes(self.pid)
            if value:
                self.peak = max(self.peak, value)
            if self._stop.wait(_POLL_SECONDS):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class _open_or_none:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.handle = None

    def __enter__(self):
        if self.path is not None:
            self.handle = self.path.open("wb")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _tail(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return text[-_LOG_TAIL_CHARS:]
