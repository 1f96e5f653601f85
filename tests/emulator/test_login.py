"""Logins through the real simple-salesforce client: SOAP username-password and OAuth password."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from salesprep.emulator import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    Credentials,
    EmulatorHandle,
    run_emulator,
)
from salesprep.salesforce.session import InstanceRewritingSession

from .conftest import API_VERSION, OrgFixture, connect


def test_soap_login_returns_the_emulator_as_instance(emulator: EmulatorHandle) -> None:
    session_id, instance = SalesforceLogin(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        security_token=DEFAULT_SECURITY_TOKEN,
        sf_version=API_VERSION,
        session=InstanceRewritingSession(emulator.base_url),
    )
    assert session_id.startswith("00D")
    assert instance == emulator.base_url.removeprefix("http://")


def test_soap_login_with_a_wrong_token_is_an_invalid_login(emulator: EmulatorHandle) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        connect(emulator, security_token="not-the-token")
    assert caught.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in caught.value.auth_message


def test_soap_login_with_an_unknown_user_is_an_invalid_login(emulator: EmulatorHandle) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        connect(emulator, username="someone@else.example")
    assert caught.value.code == "INVALID_LOGIN"


def test_oauth_password_flow_gives_a_working_session(emulator: EmulatorHandle) -> None:
    sf = Salesforce(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        consumer_key=DEFAULT_CONSUMER_KEY,
        consumer_secret=DEFAULT_CONSUMER_SECRET,
        session=InstanceRewritingSession(emulator.base_url),
        version=API_VERSION,
    )
    assert sf.sf_instance == emulator.base_url.removeprefix("http://")
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 8


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"consumer_secret": "wrong"}, "invalid_client"),
        ({"consumer_key": "wrong"}, "invalid_client_id"),
        ({"password": "wrong"}, "invalid_grant"),
    ],
)
def test_oauth_password_flow_rejects_bad_credentials(
    emulator: EmulatorHandle, overrides: dict[str, str], error: str
) -> None:
    options = {
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
        "consumer_key": DEFAULT_CONSUMER_KEY,
        "consumer_secret": DEFAULT_CONSUMER_SECRET,
        **overrides,
    }
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(session=InstanceRewritingSession(emulator.base_url), **options)
    assert caught.value.code == error


def test_oauth_rejects_an_unsupported_grant(emulator: EmulatorHandle) -> None:
    answer = requests.post(
        f"{emulator.base_url}/services/oauth2/token", data={"grant_type": "authorization_code"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_custom_credentials_replace_the_defaults(org: OrgFixture) -> None:
    custom = Credentials(username="ops@example.org", password="s3cret&<x>", security_token="T")
    with run_emulator(org.path, credentials=custom) as handle:
        sf = connect(handle)
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 8
        with pytest.raises(SalesforceAuthenticationFailed):
            connect(handle, username=DEFAULT_USERNAME)


def test_unknown_token_is_an_expired_session(emulator: EmulatorHandle) -> None:
    sf = Salesforce(
        session_id="00D000000000001!bogus",
        instance_url=emulator.base_url,
        session=InstanceRewritingSession(emulator.base_url),
        version=API_VERSION,
    )
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.status == 401
    assert caught.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_missing_token_is_an_invalid_session(emulator: EmulatorHandle) -> None:
    answer = requests.get(f"{emulator.base_url}/services/data/v{API_VERSION}/sobjects/")
    assert answer.status_code == 401
    assert answer.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_expired_session_is_renewed_by_a_client_that_can_log_in(org: OrgFixture) -> None:
    with run_emulator(org.path) as handle:
        sf = connect(handle)
        old_session = sf.session_id
        handle.emulator.sessions.expire_all()
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 8
        assert sf.session_id != old_session


def test_sessions_expire_after_their_time_to_live(org: OrgFixture) -> None:
    from salesprep.emulator import EmulatorConfig

    with run_emulator(org.path, config=EmulatorConfig(session_ttl_seconds=0.0)) as handle:
        sf = connect(handle)
        direct = Salesforce(
            session_id=sf.session_id,
            instance_url=handle.base_url,
            session=InstanceRewritingSession(handle.base_url),
            version=API_VERSION,
        )
        with pytest.raises(SalesforceExpiredSession):
            direct.query("SELECT Id FROM User")
