"""docker-compose.yml follows the Compose specification and the official Airflow 3 topology, and
wires what the DAGs need (the DuckDB pool, shared settings, no credentials in the file).

There is no Docker engine on the build machines, so the file is validated against the Compose
specification's JSON schema (`compose_spec.json`, as bundled with docker-compose 1.29.2) and
checked for dangling references instead; tests/deploy/test_multiprocess.py runs the same
topology as local processes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).with_name("compose_spec.json")


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
