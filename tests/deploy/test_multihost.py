"""The weekly DAG on two worker hosts that share no disk (issue 14, part 5).

The deployment is docker-compose.yml's topology without Docker: an api-server, a scheduler and
a dag-processor (the control plane), and two Celery workers standing for two hosts. Each host
has its own working directory, Airflow home (task logs), temp dir and empty data dir; the
workers' Celery log servers listen on ports of their own. What the hosts share is what
separate machines would: the Postgres server (Airflow's metadata database, and the warehouse
the dbt `postgres` target builds and BI reads), Redis (the Celery broker) and an S3 server
(moto: the landing zone, the extraction state, the quality reports, the rendered week and the
shared folder, reached through the `aws` connection `storage.conn_id` names, as compose does
with MinIO).

The week before was published to the shared folder with the learnings its pairs recorded,
as a single machine left them (the warehouse on Postgres starts empty).

A cluster policy (`airflow_local_settings.task_policy`, the deployment's configuration, not
salesprep's) routes the weekly DAG's tasks to the two hosts' queues in turn, so each task
runs on the other host than the one before it: whatever a step hands the next one has to
travel through Postgres or S3. The run lease is the warehouse's lease row.

The packets published to S3 must equal, byte for byte, those of a single-machine run of the
same org and week on DuckDB, and BI's views on Postgres must hold the same marts.

What this proves: no step reads a file that an earlier step left on its own disk; the
hand-offs, the lease and the publish work across hosts. What it does not: the hosts share a
kernel, a clock and a network namespace (this machine can't give each its own), so clock skew
and network partitions between hosts are not exercised.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from conftest import record_timing
from deployment import (
    Deployment,
    body,
    clear_queue,
    create_database,
    deployment_env,
    drop_database,
    free_port,
    planted_credentials,
    require_shared_servers,
    start_mailbox,
)
from s3_server import moto_s3

from salesprep.config import PostgresSettings, Settings, environment_overrides
from salesprep.pipeline import STEPS, run_week
from salesprep.weeks import Week

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

DAG = "salesprep_weekly"
# The weekly DAG's tasks in the order they run: the policy sends them to host a and b in turn.
WEEKLY_TASKS = (
    "claim_data_dir",
    "resolve_week",
    *(step.name for step in STEPS),
    "release_data_dir",
)
HOSTS = ("a", "b")
BI_SCHEMA = "marts"
# The week's quality report documents the build itself (dbt's docs name the engine's types,
# the results their timings), and the manifest lists those files: not packets, and they may
# differ between warehouses (tests/e2e/test_postgres_run.py).
NOT_COMPARED = ("quality/", "manifest.json")

POLICY = '''"""Cluster policy of the multi-host test: each weekly task to a host's queue."""

QUEUES = {queues!r}


def task_policy(task):
    if task.dag_id == "salesprep_weekly" and task.task_id in QUEUES:
        task.queue = QUEUES[task.task_id]
'''


def _queue(prefix: str, host: str) -> str:
    return f"{prefix}-{host}"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def multihost(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, week: Week
) -> Iterator[dict]:
    from salesprep.demo_org import generate_org
    from salesprep.demo_org.sample_learnings import write_sample_learnings
    from salesprep.emulator import run_emulator
    from salesprep.salesforce.connection import salesforce_conn_env

    require_shared_servers("the multi-host test")
    root = tmp_path_factory.mktemp("multihost")
    (root / "logs").mkdir()
    generate_org(root / "org", reps=4, managers=2, weeks=8, seed=11, end_week=week)
    credentials = planted_credentials("salesprep-multihost")
    with ExitStack() as stack:
        emulator = stack.enter_context(run_emulator(root / "org", credentials=credentials))
        salesforce = salesforce_conn_env(emulator.base_url, credentials)

        # The single-machine run of the same org and week: DuckDB, one local data dir. It ran
        # the week before too, and its pairs recorded learnings after their 1:1s.
        started = time.perf_counter()
        single = Settings(data_dir=root / "single-machine", org_timezone="UTC")
        shared = Path(single.shared_folder_url)
        with environment_overrides(salesforce):
            run_week(week.shift(-1), single)
            write_sample_learnings(shared, root / "org", week.shift(-1))
            before = _files(shared)  # what the multi-host run finds in its shared folder
            run_week(week, single)
        record_timing(
            request.config,
            "multi-host: single-machine reference run",
            time.perf_counter() - started,
        )

        started = time.perf_counter()
        s3 = stack.enter_context(moto_s3())
        bucket = s3.new_bucket()
        fs = s3.filesystem()
        for name, content in before.items():
            fs.pipe_file(f"{bucket}/salesprep/shared/{name}", content)
        mailbox, smtp_conn = start_mailbox(stack)
        token = secrets.token_hex(4)
        metadata = f"salesprep_multihost_{token}"
        create_database(metadata)
        stack.callback(drop_database, metadata)
        # The warehouse database: created by the first build, dropped here.
        warehouse = PostgresSettings(
            database=f"salesprep_multihost_wh_{token}", schema_name=BI_SCHEMA
        )
        stack.callback(drop_database, warehouse.database)
        prefix = f"salesprep-mh-{token}"
        for host in HOSTS:
            stack.callback(clear_queue, _queue(prefix, host))
        policy = root / "policy"
        policy.mkdir()
        queues = {t: _queue(prefix, HOSTS[i % 2]) for i, t in enumerate(WEEKLY_TASKS)}
        (policy / "airflow_local_settings.py").write_text(POLICY.format(queues=queues))

        api_port = free_port()
        env = deployment_env(
            root / "control",
            database=metadata,
            queue=_queue(prefix, "a"),  # any task the policy does not route: host a
            api_port=api_port,
            connections={
                **salesforce,
                **smtp_conn,
                "AIRFLOW_CONN_SALESPREP_S3": json.dumps(s3.airflow_connection),
            },
        )
        env.update(
            {
                "PYTHONPATH": ":".join(filter(None, (str(policy), env.get("PYTHONPATH")))),
                "SALESPREP_DBT_TARGET": "postgres",
                **warehouse.dbt_env(),
                "SALESPREP_STORAGE__URL": f"s3://{bucket}/salesprep",
                "SALESPREP_STORAGE__CONN_ID": "salesprep_s3",
            }
        )
        env.pop("SALESPREP_SHARED_FOLDER")  # the shared folder: under the storage URL
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            env.pop(name, None)  # credentials only from the connection
        deployment = Deployment(
            root=root,
            env=env,
            api=f"http://127.0.0.1:{api_port}",
            data_dir=root / "control" / "data",
            shared=root / "control" / "shared",
            airflow_home=root / "control" / "airflow",
            mailbox=mailbox,
            secrets=(credentials.password, credentials.security_token),
        )
        stack.callback(deployment.stop)
        deployment.start_control_plane(api_port)
        hosts = {}
        for host in HOSTS:
            home = root / f"host-{host}"
            (home / "tmp").mkdir(parents=True)
            hosts[host] = home
            queues_of_host = _queue(prefix, host)
            deployment.start_worker(
                f"worker-{host}",
                queues_of_host,
                cwd=home,
                env={
                    "AIRFLOW_HOME": str(home / "airflow"),
                    "SALESPREP_DATA_DIR": str(home / "data"),
                    "TMPDIR": str(home / "tmp"),
                    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                },
            )
        deployment.wait_until_ready((DAG, "salesprep_notify"))
        record_timing(request.config, "multi-host: start-up", time.perf_counter() - started)

        started = time.perf_counter()
        # Unpaused, the scheduler runs the latest Monday slot, which prepares `week`.
        deployment.unpause(DAG, "salesprep_notify")
        run_id = deployment.scheduled_run(DAG)["dag_run_id"]
        state = deployment.wait_for_run(DAG, run_id, timeout=900)
        assert state == "success", deployment.diagnose(DAG, run_id)
        record_timing(request.config, "multi-host: weekly run", time.perf_counter() - started)
        yield {
            "deployment": deployment,
            "run_id": run_id,
            "hosts": hosts,
            "queues": queues,
            "single": single,
            "fs": fs,
            "published": f"{bucket}/salesprep/shared/{week.label}",
            "warehouse": warehouse,
        }


def test_each_task_ran_on_the_host_the_policy_chose(multihost):
    """Every weekly task ran, on its host's queue, and its log is on that host alone: each
    hand-off between two steps crossed from one host to the other."""
    deployment, run_id = multihost["deployment"], multihost["run_id"]
    tis = deployment.task_instances(DAG, run_id)
    assert set(tis) == set(WEEKLY_TASKS), "the DAG's tasks changed: update WEEKLY_TASKS"
    for task_id, queue in multihost["queues"].items():
        assert tis[task_id]["state"] == "success", task_id
        assert tis[task_id]["queue"] == queue, task_id
        ran_on = {
            host
            for host, home in multihost["hosts"].items()
            if list((home / "airflow" / "logs").rglob(f"task_id={task_id}/*.log"))
        }
        assert ran_on == {queue.rsplit("-", 1)[1]}, f"{task_id} logged on hosts {ran_on}"
    # No Postgres pool slot: the warehouse is a server, not a single-writer file.
    assert all(ti["pool"] == "default_pool" for ti in tis.values())


def test_no_host_holds_what_it_did_not_need(multihost):
    """The shared folder and the warehouse are not on any local disk: no host has a shared
    folder or a DuckDB file, and the control plane's data dir was never written."""
    for host, home in multihost["hosts"].items():
        data = home / "data"
        assert data.is_dir(), f"host {host} ran no step"
        assert not (data / "shared").exists(), f"host {host} has a local shared folder"
        assert not list(data.rglob("*.duckdb")), f"host {host} has a DuckDB file"
    assert not multihost["deployment"].data_dir.exists()


def test_packets_published_to_s3_equal_the_single_machine_run(multihost, week):
    fs, remote = multihost["fs"], multihost["published"]
    local = Path(multihost["single"].shared_folder_url) / week.label
    single = _files(local)
    published = {p[len(remote) + 1 :]: fs.cat_file(p) for p in fs.find(remote)}
    manifest = json.loads(published["manifest.json"])
    expected = json.loads(single["manifest.json"])
    assert manifest["packets"], "no packets were published"
    assert manifest["packets"] == expected["packets"]  # each packet's paths and sha256
    compared = {n for n in single if not n.startswith(NOT_COMPARED)}
    assert compared <= set(published), sorted(compared - set(published))
    differ = [n for n in sorted(compared) if published[n] != single[n]]
    assert differ == [], f"published bytes differ from the single-machine run: {differ}"
    # The week's Data Docs were published with the packets, as on one machine.
    assert {n for n in published if n.startswith("quality/")} == {
        n for n in single if n.startswith("quality/")
    }


def test_the_learnings_recorded_on_s3_reach_the_packets(multihost, week):
    """The pairs' learnings of the week before, read from the shared folder on S3 by one host
    and loaded into the Postgres warehouse by the other, are in the packets."""
    fs, remote = multihost["fs"], multihost["published"]
    manifest = json.loads(fs.cat_file(f"{remote}/manifest.json"))
    packets = [
        json.loads(fs.cat_file(f"{remote}/{p['paths']['json']}")) for p in manifest["packets"]
    ]
    for section in ("lessons", "actions"):
        assert any(p[section] for p in packets), section


def test_bi_reads_the_same_marts_on_postgres(multihost):
    """The published views on Postgres hold, mart for mart, as many rows as the single-machine
    run's published DuckDB file; the lease row was given back."""
    import duckdb

    from salesprep.warehouse.postgres import CONTROL_SCHEMA, conninfo

    single = multihost["single"]
    with duckdb.connect(str(single.published_warehouse_path), read_only=True) as con:
        marts = dict(
            con.execute(
                "select table_name, estimated_size from duckdb_tables() "
                "where regexp_matches(table_name, '^(fct|rpt|dim)_')"
            ).fetchall()
        )
        counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in marts}
    warehouse = multihost["warehouse"]
    with psycopg.connect(conninfo(warehouse, warehouse.database)) as conn:
        views = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.views where table_schema = %s",
                [BI_SCHEMA],
            )
        }
        assert set(counts) <= views, sorted(set(counts) - views)
        on_postgres = {
            t: conn.execute(f'select count(*) from "{BI_SCHEMA}"."{t}"').fetchone()[0]
            for t in counts
        }
        leases = conn.execute(f'select count(*) from "{CONTROL_SCHEMA}".run_lease').fetchone()[0]
    assert on_postgres == counts
    assert leases == 0, "the run's lease row is still there"


def test_managers_are_told_from_the_published_week(multihost, week):
    """salesprep_notify, triggered by the publish asset, read the published Postgres marts
    and the shared folder on S3: one email per manager."""
    deployment = multihost["deployment"]
    notices = deployment.mailbox.wait_for(
        lambda m: week.label in m["Subject"] and "prep packets" in m["Subject"],
        180,
        f"telling managers the {week.label} packets are ready",
    )
    assert notices and all(f"/{week.label}/" in body(m) for m in notices)
