"""The Salesforce client comes from an Airflow connection through SalesforceHook, outside a
running task too (as the CLI uses it), and every request goes to the connection's http host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extract.conftest import serve_org
from salesprep.config import Settings
from salesprep.salesforce.connection import (
    SalesforceConnectionError,
    connect,
    describe_connection,
    salesforce_conn_env,
)


def test_conn_env_var_holds_a_salesforce_connection():
    from salesprep.emulator import Credentials

    env = salesforce_conn_env("http://127.0.0.1:8123/", Credentials())
    conn = json.loads(env["AIRFLOW_CONN_SALESFORCE_DEFAULT"])
    assert conn["conn_type"] == "salesforce"
    assert conn["host"] == "http://127.0.0.1:8123"
    assert conn["login"] == Credentials().username
    assert conn["extra"]["security_token"] == Credentials().security_token
    with pytest.raises(SalesforceConnectionError, match="plain-http"):
        salesforce_conn_env("https://login.salesforce.com", Credentials())


def test_hook_connects_through_the_env_var_and_queries_over_http(
    sample_org_dir: Path, tmp_path: Path
):
    settings = Settings(data_dir=tmp_path)
    with serve_org(sample_org_dir, settings) as served:
        info = describe_connection("salesforce_default")
        assert info.instance_host == served.base_url
        assert "demo-password" not in repr(info)
        calls: list[str] = []
        served.sf.session.hooks["response"].append(lambda r, *a, **k: calls.append(r.url))
        result = served.sf.query("SELECT Id, Name FROM User")
    assert result["totalSize"] == 5
    assert calls and all(url.startswith(served.base_url) for url in calls)


def test_wrong_password_is_a_clear_error_without_the_secret(
    sample_org_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from salesprep.emulator import Credentials, run_emulator

    bad = Credentials(password="not-the-password-1234")
    with run_emulator(sample_org_dir) as handle:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SALESFORCE_BAD",
            salesforce_conn_env(handle.base_url, bad, conn_id="salesforce_bad")[
                "AIRFLOW_CONN_SALESFORCE_BAD"
            ],
        )
        settings = Settings(data_dir=tmp_path, salesforce={"conn_id": "salesforce_bad"})
        with pytest.raises(SalesforceConnectionError) as caught:
            connect(settings)
    message = str(caught.value)
    assert "salesforce_bad" in message and handle.base_url in message
    assert "not-the-password-1234" not in message


def test_missing_connection_names_the_env_var(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, salesforce={"conn_id": "salesforce_nowhere"})
    with pytest.raises(SalesforceConnectionError, match="AIRFLOW_CONN_SALESFORCE_NOWHERE"):
        connect(settings)


def test_an_expired_session_logs_in_again_through_the_connection(
    sample_org_dir: Path, tmp_path: Path
):
    from salesprep.salesforce.client import ApiClient

    settings = Settings(data_dir=tmp_path)
    with serve_org(sample_org_dir, settings) as served:
        client = ApiClient(served.sf, settings.salesforce)
        old_session = served.sf.session_id
        served.handle.emulator.sessions.expire_all()
        body = client.get_json(client.data_path("limits/"), what="limits")
        assert "DailyApiRequests" in body
        assert client.relogins == 1
        assert client.sf.session_id != old_session
        # The same requests session: still routed to the emulator, logins still watched.
        assert client.sf.session is served.sf.session


def test_a_client_given_a_session_id_cannot_log_in_again(sample_org_dir: Path, tmp_path: Path):
    from simple_salesforce import Salesforce

    from salesprep.salesforce.client import ApiClient
    from salesprep.salesforce.errors import ApiRequestError

    settings = Settings(data_dir=tmp_path)
    with serve_org(sample_org_dir, settings) as served:
        direct = Salesforce(
            session_id=served.sf.session_id,
            instance_url=f"https://{served.sf.sf_instance}",
            session=served.sf.session,
            version=served.sf.sf_version,
        )
        client = ApiClient(direct, settings.salesforce)
        served.handle.emulator.sessions.expire_all()
        with pytest.raises(ApiRequestError, match="given a session id"):
            client.get_json(client.data_path("limits/"), what="limits")
        assert client.relogins == 0
