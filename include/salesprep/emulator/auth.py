"""Logins the emulator accepts (SOAP username-password, OAuth 2.0 token grants) and its sessions.

The demo credentials are public constants so the demo and tests can build a Salesforce
connection for the emulator; they protect nothing.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from salesprep.emulator.errors import invalid_session, not_found

DEFAULT_USERNAME = "demo@salesprep.example"
DEFAULT_PASSWORD = "demo-password"
DEFAULT_SECURITY_TOKEN = "demo-token"
DEFAULT_CONSUMER_KEY = "salesprep-demo"
DEFAULT_CONSUMER_SECRET = "salesprep-demo-secret"

ORG_ID = "00D000000000001AAA"
ORG_NAME = "salesprep demo org"
USER_ID = "005000000000001AAA"
DEFAULT_SESSION_TTL_SECONDS = 7200.0


@dataclass(frozen=True)
class Credentials:
    """The one user the emulator knows, and its connected app."""

    username: str = DEFAULT_USERNAME
    password: str = field(default=DEFAULT_PASSWORD, repr=False)
    security_token: str = field(default=DEFAULT_SECURITY_TOKEN, repr=False)
    consumer_key: str = DEFAULT_CONSUMER_KEY
    consumer_secret: str = field(default=DEFAULT_CONSUMER_SECRET, repr=False)


@dataclass
class Session:
    """One issued access token (SOAP sessionId or OAuth access_token)."""

    token: str
    issued_at: float
    expires_at: float
    requests: int = 0


class SessionRegistry:
    """Issues and checks access tokens; a session expires after `ttl_seconds` without use."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_SESSION_TTL_SECONDS,
        *,
        org_id: str = ORG_ID,
        org_name: str = ORG_NAME,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.org_id = org_id
        self.org_name = org_name
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def issue(self) -> Session:
        now = time.monotonic()
        # Salesforce tokens look like `<org id>!<opaque>`.
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        session = Session(token, now, now + self.ttl_seconds)
        with self._lock:
            self._sessions[token] = session
        return session

    def validate(self, token: str | None) -> Session:
        """The live session of `token`, counted as used; raises INVALID_SESSION_ID otherwise."""
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(token or "")
            if session is None or session.expires_at <= now:
                if session is not None:
                    del self._sessions[session.token]
                raise invalid_session()
            session.requests += 1
            session.expires_at = now + self.ttl_seconds
            return session

    def expire(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def expire_all(self) -> None:
        with self._lock:
            self._sessions.clear()

    def count(self) -> int:
        with self._lock:
            return len(self._sessions)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` (or `OAuth <token>`) header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        return None
    return token.strip()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


# ------------------------------------------------------------------------------- SOAP login

_SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" {namespaces}'
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}'
    "</soapenv:Body></soapenv:Envelope>"
)
INVALID_LOGIN_MESSAGE = "Invalid username, password, security token; or user locked out."


def soap_fault(code: str, message: str) -> bytes:
    """A Partner API login fault as Salesforce sends it (HTTP 500)."""
    body = (
        f"<soapenv:Fault><faultcode>sf:{escape(code)}</faultcode>"
        f"<faultstring>{escape(code)}: {escape(message)}</faultstring><detail>"
        '<sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault>"
    )
    return _SOAP_ENVELOPE.format(
        namespaces='xmlns:sf="urn:fault.partner.soap.sforce.com" ', body=body
    ).encode()


def _soap_login_response(
    session: Session,
    instance_url: str,
    version: str,
    credentials: Credentials,
    sessions: SessionRegistry,
) -> bytes:
    org_id = sessions.org_id
    server_url = f"{instance_url}/services/Soap/u/{version}/{org_id[:15]}"
    body = (
        "<loginResponse><result>"
        f"<metadataServerUrl>{instance_url}/services/Soap/m/{version}/{org_id[:15]}"
        "</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{escape(server_url)}</serverUrl>"
        f"<sessionId>{escape(session.token)}</sessionId><userId>{USER_ID}</userId>"
        f"<userInfo><organizationId>{org_id}</organizationId>"
        f"<organizationName>{escape(sessions.org_name)}</organizationName>"
        f"<userEmail>{escape(credentials.username)}</userEmail>"
        "<userFullName>salesprep demo</userFullName>"
        f"<userId>{USER_ID}</userId><userName>{escape(credentials.username)}</userName>"
        "<userTimeZone>Etc/UTC</userTimeZone></userInfo></result></loginResponse>"
    )
    return _SOAP_ENVELOPE.format(
        namespaces='xmlns="urn:partner.soap.sforce.com" ', body=body
    ).encode()


def _element_text(root: ElementTree.Element, local_name: str) -> str | None:
    for element in root.iter():
        if element.tag == local_name or element.tag.endswith("}" + local_name):
            return element.text or ""
    return None


def soap_login(
    body: bytes,
    *,
    credentials: Credentials,
    sessions: SessionRegistry,
    instance_url: str,
    version: str,
) -> tuple[int, bytes]:
    """Answer a Partner API `login` call: (status, XML). The password carries the token."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        return 500, soap_fault("INVALID_REQUEST", f"malformed SOAP login request: {exc}")
    username = _element_text(root, "username")
    password = _element_text(root, "password")
    if username is None or password is None:
        return 500, soap_fault("INVALID_REQUEST", "login needs a username and a password")
    expected = credentials.password + credentials.security_token
    if username.strip().lower() != credentials.username.lower() or not _same(password, expected):
        return 500, soap_fault("INVALID_LOGIN", INVALID_LOGIN_MESSAGE)
    session = sessions.issue()
    return 200, _soap_login_response(session, instance_url, version, credentials, sessions)


# ------------------------------------------------------------------------------ OAuth 2.0


class OAuthError(Exception):
    """An OAuth token request refused with `{"error", "error_description"}` (HTTP 400)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


# A grant checks the form against the credentials; it returns nothing or raises OAuthError.
Grant = Callable[[Mapping[str, str], Credentials], None]


def _password_grant(form: Mapping[str, str], credentials: Credentials) -> None:
    if form.get("client_id") != credentials.consumer_key:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not _same(form.get("client_secret"), credentials.consumer_secret):
        raise OAuthError("invalid_client", "invalid client credentials")
    username = (form.get("username") or "").strip().lower()
    password = form.get("password")
    # Without a trusted IP range Salesforce wants password + token; accept both forms.
    good_password = _same(password, credentials.password) or _same(
        password, credentials.password + credentials.security_token
    )
    if username != credentials.username.lower() or not good_password:
        raise OAuthError("invalid_grant", "authentication failure")


GRANTS: dict[str, Grant] = {"password": _password_grant}
"""Supported `grant_type`s; a JWT bearer grant registers here under its URN."""


def oauth_token(
    form: Mapping[str, str],
    *,
    credentials: Credentials,
    sessions: SessionRegistry,
    instance_url: str,
) -> tuple[int, bytes]:
    """Answer `POST /services/oauth2/token`: (status, JSON)."""
    grant = GRANTS.get(form.get("grant_type", ""))
    try:
        if grant is None:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        grant(form, credentials)
    except OAuthError as exc:
        payload = {"error": exc.error, "error_description": exc.description}
        return exc.status, json.dumps(payload).encode()
    session = sessions.issue()
    issued_at = str(int(time.time() * 1000))
    payload = {
        "access_token": session.token,
        "instance_url": instance_url,
        "id": f"{instance_url}/id/{sessions.org_id}/{USER_ID}",
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": secrets.token_urlsafe(32),
    }
    return 200, json.dumps(payload).encode()


def identity(
    sessions: SessionRegistry,
    credentials: Credentials,
    instance_url: str,
    org_id: str,
    user_id: str,
) -> dict[str, object]:
    """`GET /id/<org Id>/<user Id>` (the `id` URL of an OAuth token answer): who the session's
    user is and in which org. Raises NOT_FOUND (404) for another org's or user's URL."""
    if org_id not in (sessions.org_id, sessions.org_id[:15]) or user_id not in (
        USER_ID,
        USER_ID[:15],
    ):
        raise not_found(f"no identity {org_id}/{user_id} in this org")
    return {
        "id": f"{instance_url}/id/{sessions.org_id}/{USER_ID}",
        "asserted_user": True,
        "user_id": USER_ID,
        "organization_id": sessions.org_id,
        "username": credentials.username,
        "nick_name": credentials.username.split("@", 1)[0],
        "display_name": "salesprep demo",
        "email": credentials.username,
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
    }
