"""The Postgres target's settings: typed, read through `load_settings` from the variables
dbt_project/profiles.yml reads (above the YAML file), and the password never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from salesprep.config import ConfigError, PostgresSettings, load_settings
from salesprep.dbt_project import CHECKOUT_PROJECT_DIR
from salesprep.warehouse.postgres import RawLoadError, ensure_database

SECRET = "not-in-any-log-7f3a"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PostgresSettings.env_names().values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SALESPREP_CONFIG", raising=False)
    return monkeypatch


def test_the_settings_read_the_variables_profiles_yml_reads() -> None:
    profiles = (CHECKOUT_PROJECT_DIR / "profiles.yml").read_text("utf-8")
    in_profiles = set(re.findall(r"env_var\('(SALESPREP_DBT_POSTGRES_\w+)'", profiles))
    assert in_profiles == set(PostgresSettings.env_names().values())


def test_variables_override_the_yaml_file_and_reach_dbt(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "salesprep.yaml"
    config.write_text("postgres:\n  host: db.internal\n  port: 6432\n  schema_name: bi\n")
    clean_env.setenv("SALESPREP_CONFIG", str(config))
    clean_env.setenv("SALESPREP_DBT_POSTGRES_PORT", "5433")
    clean_env.setenv("SALESPREP_DBT_POSTGRES_PASSWORD", SECRET)

    postgres = load_settings().postgres

    assert (postgres.host, postgres.port, postgres.schema_name) == ("db.internal", 5433, "bi")
    assert postgres.database == "salesprep"  # the default
    assert postgres.dbt_env() == {
        "SALESPREP_DBT_POSTGRES_HOST": "db.internal",
        "SALESPREP_DBT_POSTGRES_PORT": "5433",
        "SALESPREP_DBT_POSTGRES_USER": "postgres",
        "SALESPREP_DBT_POSTGRES_PASSWORD": SECRET,
        "SALESPREP_DBT_POSTGRES_DATABASE": "salesprep",
        "SALESPREP_DBT_POSTGRES_SCHEMA": "bi",
    }


def test_the_password_is_never_shown(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SALESPREP_DBT_POSTGRES_PASSWORD", SECRET)
    # Nothing listens on port 1: the connection fails, and the error must not carry it.
    clean_env.setenv("SALESPREP_DBT_POSTGRES_PORT", "1")
    settings = load_settings()

    assert settings.postgres.password.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings.postgres)
    assert SECRET not in settings.model_dump_json()
    with pytest.raises(RawLoadError) as caught:
        ensure_database(settings.postgres)
    assert "127.0.0.1:1" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_bad_value_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SALESPREP_DBT_POSTGRES_PORT", "fivefourthreetwo")
    named = r"'postgres\.port' \(environment SALESPREP_DBT_POSTGRES_PORT\)"
    with pytest.raises(ConfigError, match=named):
        load_settings()
