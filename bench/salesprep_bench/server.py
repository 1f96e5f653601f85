"""The emulator as a separate server process for the benchmark, so the client being measured
has its own process (and cores) and every client is counted the same way on the server side:
requests by kind, response bytes and Bulk jobs, read and reset through `/__bench/` paths."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATS_PATH = "/__bench/stats"
RESET_PATH = "/__bench/reset"
# A peer that logs in with an OAuth refresh token (the Singer tap) uses these.
REFRESH_TOKEN = "salesprep-bench-refresh-token"
_READY_TIMEOUT_SECONDS = 600.0


class BenchServerError(RuntimeError):
    """The benchmark's emulator process did not start or answer; names the org folder."""


class RequestStats:
    """Counts every request the emulator answers, by kind, with the response bytes, and the
    emulator process's CPU seconds (every thread: serving, Bulk jobs, slices rendered ahead)
    since the last reset, so a client's CPU and the emulator's are reported apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.response_bytes = 0
            self.bulk_jobs_created = 0
            self._cpu_at_reset = time.process_time()

    def __call__(self, request: Any, handler: Any) -> Any:
        from salesprep.emulator import Response

        if request.path == STATS_PATH:
            return Response.json(self.snapshot())
        if request.path == RESET_PATH:
            self.reset()
            return Response.json({"reset": True})
        response = handler(request)
        kind = _kind(request.method, request.path)
        with self._lock:
            self.requests[kind] += 1
            self.response_bytes += len(response.body)
            if kind == "bulk_create" and response.status < 300:
                self.bulk_jobs_created += 1
        return response

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            api = sum(n for kind, n in self.requests.items() if kind != "login")
            return {
                "requests": dict(self.requests),
                "api_calls": api,
                "response_bytes": self.response_bytes,
                "bulk_jobs_created": self.bulk_jobs_created,
                "cpu_seconds": time.process_time() - self._cpu_at_reset,
            }


def _kind(method: str, path: str) -> str:
    if "/Soap/" in path or path.rstrip("/").endswith("/oauth2/token"):
        return "login"
    if "/jobs/query" in path:
        if method == "POST":
            return "bulk_create"
        return "bulk_results" if path.rstrip("/").endswith("/results") else "bulk_other"
    if "/queryAll" in path or "/query" in path:
        return (
            "query_page"
            if path.rstrip("/").split("/")[-1] not in ("query", "queryAll")
            else "query"
        )
    if "/describe" in path or path.rstrip("/").endswith("/sobjects"):
        return "describe"
    return "other"


def _refresh_token_grant(form: Mapping[str, str], credentials: Any) -> None:
    from salesprep.emulator.auth import OAuthError

    if form.get("client_id") != credentials.consumer_key:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if form.get("client_secret") != credentials.consumer_secret:
        raise OAuthError("invalid_client", "invalid client credentials")
    if form.get("refresh_token") != REFRESH_TOKEN:
        raise OAuthError("invalid_grant", "expired access/refresh token")


def serve_org(org_dir: Path, work_dir: Path, ready_file: Path) -> None:
    """Serve `org_dir` with every object loaded up front, until SIGTERM (server side)."""
    from salesprep.emulator import EmulatorConfig, run_emulator
    from salesprep.emulator import auth as emulator_auth

    # The tap logs in with a refresh token; the emulator's grant registry is the hook for it.
    emulator_auth.GRANTS.setdefault("refresh_token", _refresh_token_grant)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    config = EmulatorConfig(daily_api_limit=10**9, work_dir=work_dir)
    started = time.perf_counter()
    with run_emulator(org_dir, config=config) as handle:
        stats = RequestStats()
        handle.emulator.interceptors.insert(0, stats)
        store = handle.emulator.store
        for name in store.object_names():
            store.loaded_schema(name)  # load every CSV now, not inside the first measured query
        load_seconds = time.perf_counter() - started
        info = {"base_url": handle.base_url, "pid": os.getpid(), "load_seconds": load_seconds}
        tmp = ready_file.with_name(ready_file.name + ".tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, ready_file)
        while not stop.wait(0.5):
            pass


@dataclass
class ServerProcess:
    """A running benchmark emulator: where it listens, its pid, how long loading took."""

    base_url: str
    pid: int
    load_seconds: float

    def stats(self) -> dict[str, Any]:
        return _get_json(self.base_url + STATS_PATH)

    def reset(self) -> None:
        _get_json(self.base_url + RESET_PATH)

    def peak_rss_bytes(self) -> int | None:
        """The server's high-water RSS so far (VmHWM)."""
        from salesprep_bench.child import vm_hwm_bytes

        return vm_hwm_bytes(self.pid)


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


@contextmanager
def serving(
    org_dir: Path, work_dir: Path, *, env: Mapping[str, str], log_path: Path
) -> Iterator[ServerProcess]:
    """Start the emulator process for `org_dir`, wait until every object is loaded, yield it,
    and stop it (SIGTERM, then SIGKILL) on exit."""
    import subprocess

    work_dir.mkdir(parents=True, exist_ok=True)
    ready = work_dir / "ready.json"
    ready.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "salesprep_bench.server",
        str(org_dir),
        str(work_dir),
        str(ready),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        while not ready.exists():
            if process.poll() is not None:
                raise BenchServerError(
                    f"the benchmark emulator for {org_dir} exited ({process.returncode}) before "
                    f"serving; log {log_path}:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise BenchServerError(f"the benchmark emulator for {org_dir} did not start")
            time.sleep(0.2)
        info = json.loads(ready.read_text(encoding="utf-8"))
        yield ServerProcess(info["base_url"], process.pid, info["load_seconds"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("org_dir", type=Path)
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("ready_file", type=Path)
    args = parser.parse_args(argv)
    serve_org(args.org_dir, args.work_dir, args.ready_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
