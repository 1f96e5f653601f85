"""A real multi-process Airflow deployment without Docker, as docker-compose.yml runs it:
api-server, scheduler, dag-processor and a Celery worker as separate processes, against a fresh
database on the local Postgres and a private queue on the local Redis, with the Salesforce
emulator and an SMTP server in the test process."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS = ("127.0.0.1", 6379)
POOL = "salesprep_duckdb"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


class Mailbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"

    def wait_for(self, predicate, timeout: float, what: str) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in list(self.messages) if predicate(m)]
            if found:
                return found
            time.sleep(1)
        subjects = [m["Subject"] for m in self.messages]
        raise AssertionError(f"no email {what} within {timeout:.0f}s; received: {subjects}")


def start_mailbox(stack: contextlib.ExitStack) -> tuple[Mailbox, dict[str, str]]:
    """An SMTP server (aiosmtpd) on a free port for the rest of `stack`, keeping every message,
    and the environment of the `smtp_default` connection that reaches it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    stack.callback(smtp.stop)
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp.port,
        "extra": {
            "from_email": "salesprep@example.com",
            "disable_tls": True,
            "disable_ssl": True,
            "retry_limit": 1,
            "timeout": 10,
        },
    }
    return mailbox, {"AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(connection)}


def require_shared_servers(what: str) -> None:
    """Skip `what`, naming the server, unless the local PostgreSQL and Redis answer."""
    import pytest

    for (host, port), name in (
        ((POSTGRES["host"], POSTGRES["port"]), "PostgreSQL"),
        (REDIS, "Redis"),
    ):
        if not reachable(host, port):
            pytest.skip(f"{name} is not reachable on {host}:{port}; {what} needs it")


def planted_credentials(name: str):
    """Salesforce credentials of user `integration@<name>.example` with random secrets, which
    the tests then search every file a deployment wrote for."""
    from salesprep.emulator import Credentials

    return Credentials(
        username=f"integration@{name}.example",
        password="Pw-" + secrets.token_urlsafe(18),
        security_token="Tk" + secrets.token_hex(12),
    )


def body(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("html", "plain"))
    return part.get_content() if part is not None else ""


@dataclass
class Deployment:
    root: Path
    env: dict[str, str]
    api: str
    data_dir: Path
    shared: Path
    airflow_home: Path
    mailbox: Mailbox
    secrets: tuple[str, ...]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    # --- Airflow -------------------------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run an `airflow` CLI command of this deployment; its output, or an error with it."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"`airflow {' '.join(args)}` failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.api}/api/v2{path}", timeout=30, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        run = self.rest(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )
        return run["dag_run_id"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 420) -> str:
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            self.check_alive()
            state = self.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(2)
        raise AssertionError(
            f"{dag_id} run {run_id} still {state} after {timeout:.0f}s\n"
            + self.diagnose(dag_id, run_id)
        )

    def scheduled_run(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """The run the scheduler makes on unpausing `dag_id` (with catchup off: its latest
        slot), once it exists."""
        deadline = time.monotonic() + timeout
        while True:
            scheduled = [r for r in self.runs(dag_id) if r["run_type"] == "scheduled"]
            if scheduled:
                return scheduled[0]
            assert time.monotonic() < deadline, f"the scheduler created no run of {dag_id}"
            time.sleep(2)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.rest("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        data = self.rest(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 200}
        )
        return {ti["task_id"]: ti for ti in data["task_instances"]}

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        entry = self.rest(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
        )
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) and value[:1] in '[{"' else value

    def diagnose(self, dag_id: str, run_id: str) -> str:
        try:
            states = {k: v["state"] for k, v in self.task_instances(dag_id, run_id).items()}
        except AssertionError as exc:
            states = {"error": str(exc)}
        lines = [f"task states: {states}"]
        for name in self.processes:
            log = self.root / "logs" / f"{name}.log"
            if log.exists():
                lines.append(f"--- {name} (last lines) ---")
                lines += log.read_text(errors="replace").splitlines()[-25:]
        for path in sorted((self.airflow_home / "logs").rglob("*.log"))[-3:]:
            lines.append(f"--- {path.relative_to(self.airflow_home)} ---")
            lines += path.read_text(errors="replace").splitlines()[-25:]
        return "\n".join(lines)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.root / "logs" / f"{name}.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
                raise AssertionError(f"airflow {name} exited with {process.returncode}:\n{tail}")

    # --- processes -----------------------------------------------------------------------------
    def start(
        self, name: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        """Start `airflow <args>` as component `name`; `env` overrides the deployment's
        environment for this process only (a host of its own), `cwd` is its working dir."""
        log = (self.root / "logs" / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env={**self.env, **(env or {})},
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with every child
        )
        log.close()

    def start_control_plane(self, api_port: int) -> None:
        """Migrate the metadata database, then start the api-server, the scheduler and the
        dag-processor (as docker-compose.yml's airflow-init and services do)."""
        self.airflow("db", "migrate")
        self.airflow("pools", "set", POOL, "1", "DuckDB files: one writer at a time")
        self.start("api-server", "api-server", "--port", str(api_port), "--host", "127.0.0.1")
        self.start("scheduler", "scheduler")
        self.start("dag-processor", "dag-processor")

    def start_worker(
        self,
        name: str,
        queues: str,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """A Celery worker (`name`) consuming `queues` (comma-separated), two tasks at once."""
        self.start(
            name,
            "celery",
            "worker",
            "--queues",
            queues,
            "--concurrency",
            "2",
            "--celery-hostname",
            f"{name}-{queues.split(',')[0]}@%h",
            "--without-gossip",
            "--without-mingle",
            env=env,
            cwd=cwd,
        )

    def wait_until_ready(self, dags: tuple[str, ...]) -> None:
        """Until the api-server answers and the dag-processor has registered `dags`."""

        def api_up() -> bool:
            return requests.get(f"{self.api}/api/v2/version", timeout=5).ok

        wait_until(api_up, 120, "the api-server answering", self)

        def dags_parsed() -> bool:
            return all(requests.get(f"{self.api}/api/v2/dags/{d}", timeout=5).ok for d in dags)

        wait_until(dags_parsed, 180, "the dag-processor registering the DAGs", self)

    def unpause(self, *dags: str) -> None:
        for dag in dags:
            self.rest("PATCH", f"/dags/{dag}", json={"is_paused": False})

    def stop(self) -> None:
        """SIGTERM every component's process group, wait, then SIGKILL what is left."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def deployment_env(
    root: Path, *, database: str, queue: str, api_port: int, connections: dict[str, str]
) -> dict[str, str]:
    """The environment every component shares (the same JWT secret, DB, broker and queue)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SALESPREP_"))}
    db = (
        f"postgresql+psycopg2://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{database}"
    )
    env.update(connections)
    env.update(
        {
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # Parse once, not every 30 s: this machine's two cores are shared.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "SALESPREP_DATA_DIR": str(root / "data"),
            "SALESPREP_SHARED_FOLDER": str(root / "shared"),
            "SALESPREP_ORG_TIMEZONE": "UTC",
            "SALESPREP_ALERT_EMAIL": "sales-ops@example.com",
            "SALESPREP_TASK_RETRIES": "1",
            "SALESPREP_RETRY_DELAY_SECONDS": "2",
            "SALESPREP_LEASE_POKE_SECONDS": "5",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "False",
        }
    )
    return env


def create_database(name: str) -> None:
    import psycopg2

    con = psycopg2.connect(dbname="postgres", **POSTGRES)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'create database "{name}"')
    con.close()


def drop_database(name: str) -> None:
    import psycopg2

    con = psycopg2.connect(dbname="postgres", **POSTGRES)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
    con.close()


def clear_queue(queue: str) -> None:
    import redis

    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=0)
    keys = [k for k in client.scan_iter(match=f"*{queue}*")]
    if keys:
        client.delete(*keys)


def wait_until(predicate, timeout: float, what: str, deployment: Deployment | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if deployment is not None:
            deployment.check_alive()
        try:
            if predicate():
                return
        except (requests.RequestException, AssertionError):
            pass
        time.sleep(1)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s")


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
