"""The settings file, the Airflow connection and the login: can salesprep reach the org?"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from salesprep.config import CONFIG_FILE_ENV, ConfigError, Settings, load_settings
from salesprep.doctor.model import Check, fail, ok, warn
from salesprep.salesforce.connection import (
    ConnectionInfo,
    SalesforceConnectionError,
    conn_env_var,
    connect_conn_id,
    connection_value_problem,
    describe_connection,
)

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

_CONN_EXAMPLE = (
    '{"conn_type": "salesforce", "login": "...", "password": "...", '
    '"extra": {"security_token": "...", "version": "62.0"}}'
)


def settings_check(overrides: dict[str, Any]) -> tuple[Settings | None, Check]:
    """Load the settings as a run would; a bad one is a FAIL naming it and where it came from."""
    source = os.environ.get(CONFIG_FILE_ENV)
    where = f"settings file {source} ({CONFIG_FILE_ENV})" if source else "no settings file"
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        return None, fail(
            "settings",
            f"{where}: {exc}",
            "correct the setting named above (environment SALESPREP_* or the settings file); "
            "docs/configuration.md lists every setting",
            file=source,
        )
    detail = (
        f"{where}; environment SALESPREP_* and defaults, org timezone {settings.org_timezone}"
        if not source
        else f"{where} is valid; org timezone {settings.org_timezone}"
    )
    return settings, ok("settings", detail, file=source)


def connection_check(conn_id: str) -> tuple[ConnectionInfo | None, Check]:
    """The Airflow connection exists and parses; nothing is sent to Salesforce."""
    name = "Airflow connection"
    variable = conn_env_var(conn_id)
    raw = os.environ.get(variable)
    problem = connection_value_problem(raw) if raw is not None else None
    if problem:
        return None, fail(
            name,
            f"{conn_id!r} in environment variable {variable} {problem}",
            f"set {variable} to valid JSON, e.g. {_CONN_EXAMPLE} (or a connection URI)",
            source=variable,
        )
    try:
        info = describe_connection(conn_id)
    except SalesforceConnectionError as exc:
        return None, fail(
            name,
            str(exc),
            f"create the Airflow connection {conn_id!r} (airflow connections add, the UI, or "
            f"the environment variable {variable} = {_CONN_EXAMPLE})",
            source=variable if raw is not None else "airflow",
        )
    source = f"environment variable {variable}" if raw is not None else "Airflow's connections"
    where = info.instance_host or "Salesforce's login servers"
    data = {
        "source": source,
        "username": info.username,
        "host": info.instance_host,
        "api_version": info.api_version,
    }
    if not info.username:
        return info, fail(
            name,
            f"{conn_id!r} ({source}) has no login",
            f"set the connection's login to the integration user's username, e.g. {_CONN_EXAMPLE}",
            **data,
        )
    return info, ok(name, f"{conn_id!r} from {source}: user {info.username}, {where}", **data)


def login_check(conn_id: str, info: ConnectionInfo) -> tuple[Salesforce | None, Check]:
    """Log in as a run does: through SalesforceHook and simple-salesforce."""
    try:
        sf = connect_conn_id(conn_id)
    except SalesforceConnectionError as exc:
        unreachable = "cannot reach" in str(exc)
        fix = (
            "check the host in the connection and the network path to it (proxy, firewall)"
            if unreachable
            else "check the connection's login, password and security token (a password "
            "reset issues a new token), or its connected app (client_id, private key); the "
            "user's profile must allow API access"
        )
        return None, fail("login", str(exc), fix, user=info.username)
    org_id = str(getattr(sf, "session_id", "") or "").split("!", 1)[0]
    detail = f"logged in as {info.username} to {sf.sf_instance}"
    if org_id:
        detail += f" (org {org_id})"
    return sf, ok("login", detail, instance=sf.sf_instance, org_id=org_id)


def version_warning(info: ConnectionInfo, used: str, tested: str) -> Check | None:
    """A WARN when the connection names no API version (simple-salesforce's default is used)."""
    if info.api_version:
        return None
    return warn(
        "API version",
        f"the connection sets no API version: simple-salesforce's default {used} is used; "
        f"salesprep is tested with {tested}",
        f'add "version": "{tested}" to the connection\'s extra',
    )
