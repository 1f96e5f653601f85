"""docker-compose.yml follows the Compose specification and the official Airflow 3 topology, and
wires what the DAGs need (the DuckDB pool, shared settings, the Postgres warehouse and the S3
server, no credentials in the file and no guessable fallback for one).

Where a Docker daemon answers, `test_compose_brings_up_the_stack_and_runs_one_week` builds the
image, starts the stack with a demo org behind the Salesforce emulator and runs one week.
Elsewhere (the build machines have no Docker engine) it skips and says why, and the file is
validated against the Compose specification's JSON schema (`compose_spec.json`, as bundled with
docker-compose 1.29.2) and checked for dangling references instead;
tests/deploy/test_multiprocess.py runs the same topology as local processes.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
SCHEMA = Path(__file__).with_name("compose_spec.json")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ escapes a dollar.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
# A variable holding a secret (a path to a file of secrets, *_FILE, is not one).
SECRET_NAME = re.compile(r"^(?!.*_FILE$).*(PASSWORD|SECRET|FERNET|TOKEN)", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_file_matches_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_official_airflow3_celery_topology(compose):
    services = compose["services"]
    expected = {
        "postgres": None,
        "redis": None,
        "airflow-init": None,
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }
    assert set(expected) <= set(services)
    for name, command in expected.items():
        if command:
            assert services[name]["command"] == command, name
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "postgres" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver")


def test_every_dependency_is_a_defined_service(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on undefined service {dependency}"


def test_every_mounted_path_and_build_file_exists(compose):
    named_volumes = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount["source"]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing path {source}"
            else:
                assert source in named_volumes, f"{name} mounts undeclared volume {source}"
        build = service.get("build")
        if build:
            context = ROOT / build.get("context", ".")
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name


def test_dockerfile_installs_the_locked_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.", dockerfile, re.MULTILINE)
    assert "uv export --frozen" in dockerfile
    for copied in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", dockerfile, re.MULTILINE):
        for path in copied.split():
            assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"


def test_airflow_init_creates_the_duckdb_pool_the_dags_use(compose):
    from salesprep.orchestration.dag_config import DEFAULT_POOL

    init = compose["services"]["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert re.search(rf"airflow pools set {DEFAULT_POOL} 1\b", script), script
    assert script.index("airflow db migrate") < script.index("airflow pools set")
    env = compose["services"]["airflow-worker"]["environment"]
    assert env["SALESPREP_DUCKDB_POOL"] == DEFAULT_POOL


def test_every_airflow_component_shares_the_jwt_secret_and_settings(compose):
    services = compose["services"]
    airflow = [name for name in services if name.startswith("airflow-")]
    secrets = {services[name]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for name in airflow}
    assert len(secrets) == 1, secrets
    for name in airflow:
        env = services[name]["environment"]
        for variable in ("SALESPREP_ORG_TIMEZONE", "SALESPREP_SCHEDULE", "SALESPREP_DBT_TASKS"):
            assert variable in env, f"{name} lacks {variable}"
        # Credentials come from .env or a secrets backend, never from this file.
        assert env["AIRFLOW_CONN_SALESFORCE_DEFAULT"].startswith("${")


def test_the_image_carries_the_dbt_manifest_for_cosmos():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "salesprep.orchestration.dbt_tasks" in dockerfile
    assert "SALESPREP_DBT_MANIFEST=" in dockerfile


def _strings(value, path=()):
    """Every string in the compose file, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))
    elif isinstance(value, str):
        yield path, value


def _interpolations(compose: dict):
    for path, text in _strings(compose):
        for match in INTERPOLATION.finditer(text):
            yield path, match


def test_no_secret_has_a_fallback_value(compose):
    """A secret the operator forgot must stop Compose with its name (`${VAR:?...}`), not start
    the stack with a value anyone can guess (`${VAR:-change-me}`)."""
    offending = []
    for path, match in _interpolations(compose):
        name = match["name"]
        if SECRET_NAME.search(name) and match["op"] not in (":?", "?"):
            offending.append(f"{'.'.join(path)}: ${{{name}{match['op'] or ''}...}}")
    assert not offending, offending


def test_no_literal_password_or_key(compose):
    """Every password, secret or key in an environment block is a required variable."""
    literal = []
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        for variable, value in env.items():
            if SECRET_NAME.search(variable) and "${" not in str(value):
                literal.append(f"{name}.{variable}")
    for path, text in _strings(compose):
        # Credentials in URLs (scheme://user:password@host) come from a variable too.
        for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", text):
            if not password.startswith("${"):
                literal.append(".".join(path))
    assert not literal, literal


def test_every_required_variable_is_documented_in_env_example(compose):
    required = {m["name"] for _, m in _interpolations(compose) if m["op"] in (":?", "?")}
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*(\w+)=", example, re.MULTILINE))
    assert required, "the compose file requires no variable"
    assert required <= listed, f".env.example lacks {sorted(required - listed)}"
    # .env.example carries no secret: every secret's value is left to the operator.
    for name, value in re.findall(r"^(\w+)=(.*)$", example, re.MULTILINE):
        if SECRET_NAME.search(name):
            assert value == "", f".env.example sets {name}"
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_the_warehouse_is_a_postgres_database_the_dbt_target_points_at(compose):
    from salesprep.config import PostgresSettings

    services = compose["services"]
    warehouse = services["warehouse"]
    assert warehouse["image"].startswith("postgres:")
    assert "warehouse" in services["airflow-worker"]["depends_on"]
    names = PostgresSettings.env_names()
    for name in ("airflow-worker", "airflow-scheduler", "airflow-dag-processor"):
        env = services[name]["environment"]
        assert env["SALESPREP_DBT_TARGET"] == "postgres"
        assert env[names["host"]] == "warehouse"
        assert env[names["user"]] == warehouse["environment"]["POSTGRES_USER"]
        assert env[names["database"]] == warehouse["environment"]["POSTGRES_DB"]
        assert env[names["password"]] == warehouse["environment"]["POSTGRES_PASSWORD"]
    # Its own server, database and login: not Airflow's metadata database.
    metadata = services["airflow-worker"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@postgres/airflow" in metadata


def test_an_s3_server_with_a_bucket_and_an_application_key(compose):
    services = compose["services"]
    assert services["minio"]["command"].startswith("server ")
    init = services["minio-init"]
    script = "\n".join(init["command"])
    assert "mc mb --ignore-existing local/salesprep" in script
    assert "mc admin user add local" in script
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    env = services["airflow-worker"]["environment"]
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    # The application's key, not minio's root login.
    assert "SALESPREP_S3_ACCESS_KEY" in env["AWS_ACCESS_KEY_ID"]
    assert "MINIO_ROOT" not in env["AWS_ACCESS_KEY_ID"]
    conn = json.loads(
        INTERPOLATION.sub(lambda m: m["name"].lower(), env["AIRFLOW_CONN_SALESPREP_S3"])
    )
    assert conn["conn_type"] == "aws"
    assert conn["extra"]["endpoint_url"] == "http://minio:9000"


def test_the_admin_login_comes_from_env(compose):
    services = compose["services"]
    env = services["airflow-apiserver"]["environment"]
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    init = services["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert f"> {passwords}" in script
    assert "AIRFLOW_ADMIN_PASSWORD" in script
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")


def test_workers_scale_and_the_docs_show_how(compose):
    worker = compose["services"]["airflow-worker"]
    # A fixed container name or host port would stop `--scale` from starting a second worker.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "docker compose up --scale airflow-worker=3" in DEPLOY_DOC.read_text(encoding="utf-8")


def _docker_unavailable() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "no docker command on this machine"
    probe = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return f"no Docker daemon answers `docker info`: {probe.stderr.strip()[:200]}"
    version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if version.returncode != 0:
        return "the docker compose plugin is missing"
    return None


# The Salesforce emulator on a generated demo org, inside the compose network (test only).
EMULATOR_OVERRIDE = """
services:
  salesforce:
    image: salesprep-airflow:latest
    working_dir: /home/airflow
    entrypoint: /bin/bash
    command:
      - -c
      - >-
        salesprep generate-org demo-org --end-week {week}
        && exec salesprep emulator --host 0.0.0.0 --port 8765 demo-org
"""


@pytest.mark.slow
def test_compose_brings_up_the_stack_and_runs_one_week(tmp_path: Path):
    reason = _docker_unavailable()
    if reason:
        pytest.skip(f"{reason}: the compose file is validated without Docker instead")
    from salesprep.emulator import Credentials
    from salesprep.salesforce.connection import salesforce_conn_env
    from salesprep.weeks import Week

    week = Week.parse("2026-W10")
    values = {
        name: secrets.token_hex(16)
        for name in re.findall(r"^#?\s*(\w+)=", ENV_EXAMPLE.read_text("utf-8"), re.MULTILINE)
        if SECRET_NAME.search(name)
    }
    values.pop("AIRFLOW_CONN_SALESFORCE_DEFAULT", None)
    from cryptography.fernet import Fernet

    values |= {
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_ADMIN_USER": "admin",
        "MINIO_ROOT_USER": "salesprep-root",
        "SALESPREP_S3_ACCESS_KEY": "salesprep-app",
        **salesforce_conn_env("http://salesforce:8765", Credentials()),
    }
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    override = tmp_path / "compose.emulator.yml"
    override.write_text(EMULATOR_OVERRIDE.format(week=week), encoding="utf-8")
    project = f"salesprep-test-{secrets.token_hex(4)}"
    compose_cmd = [
        "docker", "compose", "--project-directory", str(ROOT), "--env-file", str(env_file),
        "-f", str(COMPOSE), "-f", str(override), "-p", project,
    ]  # fmt: skip

    def compose_run(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*compose_cmd, *args], capture_output=True, text=True, timeout=timeout, check=True
        )

    try:
        compose_run("build")
        compose_run("up", "airflow-init")
        compose_run("up", "-d", "--scale", "airflow-worker=2")
        airflow = ("exec", "-T", "airflow-scheduler", "airflow")
        compose_run(*airflow, "dags", "unpause", "salesprep_weekly")
        compose_run(
            *airflow, "dags", "trigger", "salesprep_weekly", "-c", json.dumps({"week": str(week)})
        )
        state = ""
        for _ in range(360):  # bounded: at most 360 polls, 10 s apart
            listed = compose_run(
                *airflow, "dags", "list-runs", "salesprep_weekly", "-o", "json", timeout=120
            )
            runs = json.loads(listed.stdout or "[]")
            state = runs[0]["state"] if runs else ""
            if state in ("success", "failed"):
                break
            time.sleep(10)
        assert state == "success", f"the week's run ended {state or 'nowhere'}"
    finally:
        subprocess.run([*compose_cmd, "down", "-v"], capture_output=True, timeout=600)
