"""The YAML settings file (SALESPREP_CONFIG): read through pydantic-settings' YAML source,
below the environment, and every problem a ConfigError that names the file or the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesprep.config import ConfigError, load_settings


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("SALESPREP_ORG_TIMEZONE", "SALESPREP_GUARDS__ALLOW_PARTIAL_WEEK"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "salesprep.yaml"

    def write(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("SALESPREP_CONFIG", str(path))
        return path

    return write


def test_nested_values_come_from_the_file_and_the_environment_wins(config_file, monkeypatch):
    config_file(
        "org_timezone: Europe/Berlin\n"
        "guards:\n  allow_partial_week: true\n  data_grace_hours: 24\n"
        "salesforce:\n  page_size: 500\n"
    )
    monkeypatch.setenv("SALESPREP_GUARDS__DATA_GRACE_HOURS", "12")
    settings = load_settings()
    assert settings.org_timezone == "Europe/Berlin"
    assert settings.guards.allow_partial_week is True
    assert settings.guards.data_grace_hours == 12  # the environment above the file
    assert settings.salesforce.page_size == 500
    assert settings.salesforce.conn_id == "salesforce_default"  # untouched default


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("guards:\n  allow_partial_weeks: true\n", "guards.allow_partial_weeks"),
        ("salesforce:\n  page_sise: 500\n", "salesforce.page_sise"),
        ("org_timezon: UTC\n", "org_timezon"),
    ],
)
def test_a_misspelt_key_names_the_setting_and_the_file(config_file, text, setting):
    path = config_file(text)
    with pytest.raises(ConfigError, match="Extra inputs are not permitted") as raised:
        load_settings()
    assert f"setting {setting!r}" in str(raised.value) and str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("org_timezone: [Europe/Berlin\n", "not valid YAML"),
        ("- org_timezone\n", "the top level must be a mapping"),
        ("42\n", "the top level must be a mapping"),
    ],
)
def test_a_file_that_is_not_a_yaml_mapping(config_file, text, problem):
    path = config_file(text)
    with pytest.raises(ConfigError, match=problem) as raised:
        load_settings()
    assert f"SALESPREP_CONFIG={path}" in str(raised.value)


def test_a_missing_file_or_a_folder_is_an_error_not_an_empty_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPREP_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="cannot read the config file: no such file"):
        load_settings()
    monkeypatch.setenv("SALESPREP_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="cannot read the config file: it is a folder"):
        load_settings()


def test_an_empty_file_keeps_the_defaults(config_file):
    config_file("")
    assert load_settings().org_timezone == "UTC"
