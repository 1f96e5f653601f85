"""The Salesforce API client, built from an Airflow connection through SalesforceHook.

The hook (apache-airflow-providers-salesforce 5.x) reads `login`/`password` and the extras
`security_token`, `domain`, `version`, `instance_url`, `client_id`, ... of the connection and
ignores its `host`. salesprep gives `host` one meaning: a plain-http instance URL (a local
emulator or a proxy in front of one) to which every request, login included, is routed by an
`InstanceRewritingSession`. Outside a running task (the CLI), Airflow 3 still resolves the
connection from an `AIRFLOW_CONN_<CONN_ID>` environment variable, so the same code serves both.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from salesprep.salesforce.session import InstanceRewritingSession

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from salesprep.config import SalesforceSettings, Settings

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "62.0"


class SalesforceConnectionError(RuntimeError):
    """The Salesforce connection is missing, malformed, or the login failed."""


class _Credentials(Protocol):
    username: str
    password: str
    security_token: str


@dataclass(frozen=True)
class ConnectionInfo:
    """What salesprep reads from the Airflow connection, secrets left out (safe to log)."""

    conn_id: str
    username: str | None
    instance_host: str | None
    api_version: str


def conn_env_var(conn_id: str) -> str:
    """The environment variable Airflow reads the connection `conn_id` from."""
    return "AIRFLOW_CONN_" + conn_id.upper()


def salesforce_conn_env(
    base_url: str,
    credentials: _Credentials,
    *,
    conn_id: str = "salesforce_default",
    api_version: str = DEFAULT_API_VERSION,
) -> dict[str, str]:
    """`{AIRFLOW_CONN_<CONN_ID>: <json>}` for a Salesforce reachable at plain-http `base_url`.

    Pass it to `os.environ.update`, a subprocess `env`, or `monkeypatch.setenv`.
    """
    _plain_http_host(base_url, required=True)
    conn = {
        "conn_type": "salesforce",
        "host": base_url.rstrip("/"),
        "login": credentials.username,
        "password": credentials.password,
        "extra": {"security_token": credentials.security_token, "version": api_version},
    }
    return {conn_env_var(conn_id): json.dumps(conn)}


def _plain_http_host(host: str | None, *, required: bool = False) -> str | None:
    """`host` when it is an `http://host:port` URL, None for anything else (e.g. blank)."""
    if host:
        parts = urlsplit(host)
        if parts.scheme == "http" and parts.netloc:
            return f"http://{parts.netloc}"
    if required:
        raise SalesforceConnectionError(
            f"Salesforce base URL {host!r} must be a plain-http URL such as http://127.0.0.1:8000"
        )
    return None


def connection_value_problem(value: str) -> str | None:
    """Why an `AIRFLOW_CONN_*` value is malformed, None when it is fine: Airflow reads a value
    starting with `{` as JSON and anything else as a URI (`salesforce://...`), and reports a
    malformed one as "not defined"."""
    text = value.strip()
    if not text:
        return "is empty"
    if not text.startswith("{"):
        return None if "://" in text else "is neither a JSON object nor a connection URI"
    try:
        data = json.loads(value)  # not the stripped text: the error's column is the value's
    except ValueError as exc:
        return f"is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return "must be a JSON object"
    extra = data.get("extra")
    if isinstance(extra, str) and extra.strip():
        try:
            json.loads(extra)
        except ValueError as exc:
            return f"has an 'extra' string that is not valid JSON ({exc})"
    return None


def check_connection_env(conn_id: str) -> None:
    """If the connection comes from its `AIRFLOW_CONN_*` environment variable, check that the
    value there is well-formed: Airflow would report it as "not found"."""
    from salesprep.runs.preflight import PreflightError

    name = conn_env_var(conn_id)
    value = os.environ.get(name)
    problem = connection_value_problem(value) if value is not None else None
    if problem:
        raise PreflightError(
            f"the Salesforce connection {conn_id!r} in environment variable {name} {problem}: "
            'fix it, e.g. {"conn_type": "salesforce", "login": "...", "password": "...", '
            '"extra": {"security_token": "..."}}'
        )


def describe_connection(conn_id: str) -> ConnectionInfo:
    """Read the Airflow connection `conn_id` and say (without secrets) where it points."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    check_connection_env(conn_id)
    try:
        conn = SalesforceHook.get_connection(conn_id)
    except Exception as exc:  # Airflow raises AirflowNotFoundException and friends
        raise SalesforceConnectionError(
            f"Salesforce connection {conn_id!r} not found: define it in Airflow or set "
            f"{conn_env_var(conn_id)} (JSON with conn_type, login, password, extra.security_token)"
        ) from exc
    given: dict[str, Any] = conn.extra_dejson or {}
    # Every flow simple-salesforce offers needs a user name or a connected app's key.
    if not conn.login and not (
        given.get("consumer_key") or given.get("extra__salesforce__consumer_key")
    ):
        raise SalesforceConnectionError(
            f"Salesforce connection {conn_id!r} has no login (nor a connected app): set "
            "login, password and extra.security_token, or a connected app, in Airflow or "
            f"in {conn_env_var(conn_id)}"
        )
    host = conn.host
    if host and conn.port and "://" in host and not urlsplit(host).port:
        host = f"{host.rstrip('/')}:{conn.port}"
    extras: dict[str, Any] = conn.extra_dejson or {}
    version = extras.get("version") or extras.get("extra__salesforce__version")
    return ConnectionInfo(
        conn_id=conn_id,
        username=conn.login,
        instance_host=_plain_http_host(host),
        api_version=str(version) if version else "",
    )


def connect(settings: Settings) -> Salesforce:
    """A logged-in Salesforce client for the connection named by `settings.salesforce.conn_id`;
    a login server in trouble (5xx, 429, a dropped connection) is retried with the backoff of
    data calls (settings.salesforce.retry_*)."""
    return connect_conn_id(settings.salesforce.conn_id, settings.salesforce)


def connect_conn_id(conn_id: str, retry: SalesforceSettings | None = None) -> Salesforce:
    """A logged-in `simple_salesforce.Salesforce` for the Airflow connection `conn_id`,
    retrying transient login failures as `retry` says (default settings)."""
    import requests
    from simple_salesforce.exceptions import SalesforceError

    from salesprep.config import SalesforceSettings
    from salesprep.salesforce.client import Backoff, login_with_retries, open_session, watch_logins
    from salesprep.salesforce.errors import ApiRequestError

    info = describe_connection(conn_id)
    session = (
        InstanceRewritingSession(info.instance_host) if info.instance_host else requests.Session()
    )
    last_status = watch_logins(session)
    where = info.instance_host or "Salesforce login servers"
    backoff = Backoff(retry or SalesforceSettings())
    try:
        sf = login_with_retries(
            lambda: open_session(conn_id, session), backoff, last_status, f"login at {where}"
        )
    except ApiRequestError as exc:  # a transient failure that outlasted the retries
        raise SalesforceConnectionError(
            f"Salesforce login for connection {conn_id!r} (user {info.username!r}): {exc}"
        ) from exc
    except TypeError as exc:  # simple-salesforce: no combination of fields it can log in with
        raise SalesforceConnectionError(
            f"Salesforce connection {conn_id!r} is incomplete ({exc}): give it login, password "
            "and extra.security_token, or a connected app (extra.consumer_key ...)"
        ) from exc
    except SalesforceError as exc:
        # simple-salesforce's messages carry the response body, never the password.
        raise SalesforceConnectionError(
            f"Salesforce login for connection {conn_id!r} (user {info.username!r}) at {where} "
            f"failed: {exc}"
        ) from exc
    except OSError as exc:  # requests' ConnectionError is an OSError
        raise SalesforceConnectionError(
            f"cannot reach Salesforce for connection {conn_id!r} at {where}: {exc}"
        ) from exc
    if not info.api_version:
        log.warning(
            "Salesforce connection %s sets no API version (extra 'version'): using "
            "simple-salesforce's default %s; salesprep is tested with %s",
            conn_id,
            sf.sf_version,
            DEFAULT_API_VERSION,
        )
    log.info(
        "connected to Salesforce instance %s as %s (API %s, connection %s)",
        sf.sf_instance,
        info.username,
        sf.sf_version,
        conn_id,
    )
    return sf
