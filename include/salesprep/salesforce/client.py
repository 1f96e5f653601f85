"""The REST client extraction talks through: retries with backoff and jitter, re-login on an
expired session, API usage accounting, and the guard on the org's daily API limit.

It sends every request through the simple-salesforce client's own `requests` session, so an
`InstanceRewritingSession` keeps routing retries and re-logins to the configured plain-http
host (an emulator, or a fault-injecting proxy in front of one). One client serves the
extraction's worker threads (objects load concurrently): its counters are locked, a session
that expired is renewed once for all of them, and each thread can meter its own calls.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

from salesprep.salesforce.errors import (
    ApiLimitError,
    ApiRequestError,
    ExtractStopped,
    QueryLocatorExpired,
)

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from salesprep.config import SalesforceSettings

log = logging.getLogger(__name__)

# Statuses worth another try: throttling, server errors and gateways in front of Salesforce.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_LIMIT_INFO = re.compile(r"api-usage=(?P<used>\d+)/(?P<limit>\d+)")
COMPOSITE_MAX_SUBREQUESTS = 25
COMPOSITE_MAX_QUERIES = 5
_MAX_RELOGINS_PER_REQUEST = 3
# Sessions another worker thread renewed while this request was out, before its own count.
_MAX_RENEWALS_ELSEWHERE_PER_REQUEST = 10
# Login answers worth another try: a login server or gateway in trouble, or throttling. A
# SOAP login fault is an HTTP 500 too, so a 500 counts only without a Salesforce fault code.
_LOGIN_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_LOGIN_RETRY_CODES = frozenset(
    {"SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION", "REQUEST_LIMIT_EXCEEDED"}
)
_LOGIN_PATHS = ("/services/Soap/u/", "/services/oauth2/token")


class Backoff:
    """Exponential backoff with jitter, capped, honouring Retry-After: the one retry policy of
    data calls and logins (settings.salesforce.retry_*)."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.retries = 0

    def retry_or_raise(
        self, attempt: int, what: str, problem: str, retry_after: str | None = None
    ) -> None:
        """Sleep before attempt `attempt + 1`, or raise ApiRequestError after the last one."""
        attempts = self.settings.retry_attempts
        if attempt >= attempts:
            raise ApiRequestError(f"{what} failed after {attempts} attempt(s): {problem}")
        delay = min(
            self.settings.retry_backoff_max_seconds,
            self.settings.retry_backoff_seconds * 2 ** (attempt - 1),
        )
        with self._lock:
            delay = delay / 2 + self._rng.uniform(0, delay / 2)  # jitter: callers spread out
            self.retries += 1
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), self.settings.retry_backoff_max_seconds))
        log.warning("%s: %s; retry %d of %d in %.2fs", what, problem, attempt, attempts - 1, delay)
        self._sleep(delay)


def watch_logins(session: requests.Session) -> Callable[[], int | None]:
    """Record the HTTP status of every login answer `session` receives; the returned function
    gives the last one (simple-salesforce's login error does not carry it)."""
    statuses: list[int] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if any(path in response.url for path in _LOGIN_PATHS):
            statuses.append(response.status_code)

    session.hooks.setdefault("response", []).append(hook)
    return lambda: statuses[-1] if statuses else None


def transient_login_failure(exc: BaseException, status: int | None) -> bool:
    """Whether a failed login is worth another try: a connection problem, or an answer from a
    login server in trouble; a refused login (wrong password, locked user) is not."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    if isinstance(exc, _TRANSIENT):
        return True
    if not isinstance(exc, SalesforceAuthenticationFailed):
        return False
    code = exc.code
    if isinstance(code, str) and code.split(":")[-1].upper() in _LOGIN_RETRY_CODES:
        return True
    if status in _LOGIN_RETRY_STATUSES:
        return True
    return status == 500 and not isinstance(code, str)


def login_with_retries(
    login: Callable[[], Any], backoff: Backoff, last_status: Callable[[], int | None], what: str
) -> Any:
    """Call `login` until it succeeds, retrying transient failures with `backoff`; a refused
    login, or the last failed attempt, raises (the latter as ApiRequestError)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return login()
        except Exception as exc:
            if not transient_login_failure(exc, last_status()):
                raise
            status = last_status()
            problem = f"HTTP {status}: {exc}" if status else f"{type(exc).__name__}: {exc}"
            backoff.retry_or_raise(attempt, what, " ".join(problem.split())[:300])


def open_session(conn_id: str, session: requests.Session) -> Salesforce:
    """One login through Airflow's SalesforceHook for the connection `conn_id`, on `session`: a
    new `simple_salesforce.Salesforce` with a fresh session id. The first login
    (`connection.connect`) and every re-login after a session expired go through here, so both
    read the connection the same way and neither needs simple-salesforce's internals."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    return SalesforceHook(salesforce_conn_id=conn_id, session=session).get_conn()


@dataclass(frozen=True)
class ApiUsage:
    """The org's daily API usage, as the last `Sforce-Limit-Info` header reported it."""

    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0


@dataclass
class Meter:
    """The API calls and downloaded bytes of one thread's work (one object's load)."""

    calls: int = 0
    downloaded_bytes: int = 0


@dataclass(frozen=True)
class SubResult:
    """One composite subrequest's answer."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str:
        return _error_of_body(self.body)[0]

    @property
    def message(self) -> str:
        code, message = _error_of_body(self.body)
        return f"{self.status} {code}: {message}".strip()


def session_org_id(sf: Salesforce) -> str:
    """The org a logged-in client talks to, known without an API call: the 15-character org
    Id that starts every Salesforce session Id (`00D...!...`), or the instance if the session
    Id does not have that shape."""
    session_id = str(getattr(sf, "session_id", "") or "")
    return session_id.split("!", 1)[0] if "!" in session_id else str(sf.sf_instance)


def _read_body(response: requests.Response) -> None:
    """Read a streamed response's whole body in one piece, as `response.content`.

    requests reads a body it was not asked to stream in 10 KiB pieces, a Python call each:
    a Bulk result slice (10-30 MB) takes a thousand or more of them, about 1.6 ms of CPU per
    MB, more than a third of what pyarrow takes to parse it; read at once, 0.6 ms (decision
    52). Decoding (gzip) and the errors of a body cut short are requests' own
    (`ChunkedEncodingError`, a transient error here)."""
    response._content = b"".join(response.iter_content(chunk_size=None))


class ApiClient:
    """REST calls to one org for one extraction run, with the run's counters."""

    def __init__(
        self,
        sf: Salesforce,
        settings: SalesforceSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.sf = sf
        self.settings = settings
        self._backoff = Backoff(settings, sleep=sleep, rng=rng)
        self._login_status = watch_logins(sf.session)
        self.calls = 0  # API requests answered (any status): what the org counts
        self.relogins = 0
        self.downloaded_bytes = 0
        self.usage: ApiUsage | None = None
        self.usage_at_start: ApiUsage | None = None
        self.server_time: datetime | None = None
        self._composite_ok = True
        self._lock = threading.Lock()
        self._relogin_lock = threading.Lock()
        self._local = threading.local()
        # Set when the run stops: later requests raise ExtractStopped (cleanup ones go out).
        self.stopped = threading.Event()

    @property
    def retries(self) -> int:
        """Retries of data calls and logins so far."""
        return self._backoff.retries

    def meter(self) -> Meter:
        """Start metering this thread's requests from zero; the meter counts until the next
        call of `meter` on this thread."""
        meter = Meter()
        self._local.meter = meter
        return meter

    def share_meter(self, meter: Meter | None) -> None:
        """Count this thread's requests on `meter`, another thread's (this thread does part
        of that thread's work: the download of a Bulk job's next result slice)."""
        self._local.meter = meter

    def current_meter(self) -> Meter | None:
        """This thread's meter, if `meter` was called on it."""
        return getattr(self._local, "meter", None)

    def stop(self) -> None:
        """Refuse every later request except cleanups (`cleanup=True`): the run failed."""
        self.stopped.set()

    def pause(self, seconds: float) -> None:
        """Sleep between polls, waking at once (with ExtractStopped) if the run stops."""
        if self.stopped.wait(seconds):
            raise ExtractStopped("the extraction stopped while waiting")

    # ------------------------------------------------------------------------ identity

    @property
    def version(self) -> str:
        return str(self.sf.sf_version)

    @property
    def org_id(self) -> str:
        """The 15-character org Id that starts every session Id (the instance if unknown)."""
        return session_org_id(self.sf)

    def data_path(self, rest: str) -> str:
        return f"/services/data/v{self.version}/{rest.lstrip('/')}"

    def url(self, path: str) -> str:
        return f"https://{self.sf.sf_instance}{path}"

    def url_length(self, path: str, params: dict[str, str]) -> int:
        return len(self.url(path)) + 1 + len(urlencode(params))

    # ------------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        cleanup: bool = False,
    ) -> requests.Response:
        """Send one API request, retrying what is transient; raise what is not.

        `what` names the operation for messages ("query of Opportunity page 3"). Once the
        run stopped, only `cleanup` requests (deleting a Bulk job) are sent.
        """
        attempt = 0
        relogins = renewed_elsewhere = 0
        while True:
            attempt += 1
            if not cleanup:
                if self.stopped.is_set():
                    raise ExtractStopped(f"{what}: not sent, the extraction stopped")
                self._guard(what)
            sf = self.sf
            try:
                response = sf.session.request(
                    method,
                    self.url(path),
                    params=params,
                    json=json_body,
                    headers={**sf.headers, **(headers or {})},
                    timeout=self.settings.request_timeout_seconds,
                    stream=True,
                )
                _read_body(response)
            except _TRANSIENT as exc:
                self._retry_or_raise(attempt, what, f"{type(exc).__name__}: {exc}")
                continue
            self._count(len(response.content))
            self._note_headers(response)
            if response.status_code < 300:
                return response
            code, message = _error_of(response)
            status = response.status_code
            if status == 401 and relogins < _MAX_RELOGINS_PER_REQUEST:
                attempt -= 1  # a new session is not a failed attempt
                if self._relogin(what, code, expired=sf):
                    relogins += 1
                else:  # another thread renewed the session meanwhile: use it
                    renewed_elsewhere += 1
                    relogins += renewed_elsewhere > _MAX_RENEWALS_ELSEWHERE_PER_REQUEST
                continue
            if (
                code == "REQUEST_LIMIT_EXCEEDED"
                and status == 403
                and "concurrent" not in (message.lower())
            ):
                raise ApiLimitError(
                    f"{what}: the org's daily API request limit is exhausted ({message}); "
                    "the run stopped and changed nothing. Run it again when the 24-hour "
                    "usage has dropped."
                )
            if status in RETRY_STATUSES or (status == 403 and code == "REQUEST_LIMIT_EXCEEDED"):
                retry_after = response.headers.get("Retry-After")
                self._retry_or_raise(attempt, what, f"{status} {code}: {message}", retry_after)
                continue
            error = ApiRequestError(
                f"{what} failed: {status} {code}: {message}".rstrip(": "),
                status=status,
                error_code=code,
            )
            if code == "INVALID_QUERY_LOCATOR":
                raise QueryLocatorExpired(str(error), status=status, error_code=code)
            raise error

    def get_json(self, path: str, *, what: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, what=what, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiRequestError(f"{what}: the answer is not JSON: {exc}") from exc

    def composite(self, subrequests: list[tuple[str, str]], *, what: str) -> dict[str, SubResult]:
        """GET subrequests `(reference, path with query)` through `POST composite`, which
        Salesforce counts as one API call per 25 subrequests (at most 5 queries each).
        A subrequest failing transiently is sent again on its own, with retries."""
        results: dict[str, SubResult] = {}
        if self._composite_ok:
            for batch in _composite_batches(subrequests):
                body = {
                    "allOrNone": False,
                    "compositeRequest": [
                        {"method": "GET", "url": url, "referenceId": ref} for ref, url in batch
                    ],
                }
                try:
                    response = self.request(
                        "POST", self.data_path("composite"), what=what, json_body=body
                    )
                except ApiRequestError as exc:
                    if exc.status in (404, 405):
                        log.warning("no composite resource: sending %s one by one", what)
                        self._composite_ok = False
                        break
                    raise
                for item in response.json().get("compositeResponse", []):
                    results[item["referenceId"]] = SubResult(
                        int(item["httpStatusCode"]), item.get("body")
                    )
        for ref, url in subrequests:
            result = results.get(ref)
            if result is not None and (result.ok or result.status not in RETRY_STATUSES):
                continue
            results[ref] = self._single(url, what=f"{what} ({ref})")
        return results

    def _single(self, path_and_query: str, *, what: str) -> SubResult:
        try:
            response = self.request("GET", path_and_query, what=what)
        except QueryLocatorExpired:
            raise
        except ApiRequestError as exc:
            if exc.status is None:
                raise
            return SubResult(exc.status, [{"errorCode": exc.error_code, "message": str(exc)}])
        return SubResult(response.status_code, response.json())

    def query_pages(
        self, soql: str, *, page_size: int, what: str
    ) -> Iterator[list[dict[str, Any]]]:
        """The record pages of a `queryAll` (deleted rows included), one request per page."""
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"}
        page = 1
        body = self.get_json(
            self.data_path("queryAll/"),
            what=f"{what}, page {page}",
            params={"q": soql},
            headers=headers,
        )
        while True:
            yield body.get("records", [])
            if body.get("done", True):
                return
            next_url = body.get("nextRecordsUrl")
            if not next_url:
                raise ApiRequestError(f"{what}: page {page} is not the last but has no next URL")
            page += 1
            body = self.get_json(next_url, what=f"{what}, page {page}", headers=headers)

    # ------------------------------------------------------------------------ internals

    def _count(self, size: int) -> None:
        with self._lock:
            self.calls += 1
            self.downloaded_bytes += size
        meter = getattr(self._local, "meter", None)
        if meter is not None:
            meter.calls += 1
            meter.downloaded_bytes += size

    def _note_headers(self, response: requests.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.usage = ApiUsage(int(match["used"]), int(match["limit"]))
            if self.usage_at_start is None:
                self.usage_at_start = self.usage
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(date).astimezone(UTC)

    def _guard(self, what: str) -> None:
        share = self.settings.max_api_share
        if self.usage is None or self.usage.share < share:
            return
        raise ApiLimitError(
            f"stopped before {what}: the org has used {self.usage.used:,} of its "
            f"{self.usage.limit:,} daily API requests ({self.usage.share:.0%}), at or above the "
            f"guard salesforce.max_api_share={share:g} (SALESPREP_SALESFORCE__MAX_API_SHARE). "
            "Nothing was changed; run again later or raise the share."
        )

    def _relogin(self, what: str, code: str, *, expired: Salesforce) -> bool:
        """Log in again through the Airflow connection `settings.conn_id`, on the same requests
        session (retries and routing kept), and talk through the new client from now on.
        False when another thread had already replaced the `expired` client (nothing to do:
        the next try uses its session)."""
        with self._relogin_lock:
            if self.sf is not expired:
                return False
            self._login_again(what, code)
            return True

    def _login_again(self, what: str, code: str) -> None:
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed

        if self.sf.auth_type == "direct":
            raise ApiRequestError(
                f"{what}: the session expired ({code or 'HTTP 401'}) and this connection was "
                "given a session id, so it cannot log in again",
                status=401,
                error_code=code,
            )
        log.info("Salesforce session expired during %s: logging in again", what)
        session = self.sf.session
        try:
            self.sf = login_with_retries(
                lambda: open_session(self.settings.conn_id, session),
                self._backoff,
                self._login_status,
                f"login again for {what}",
            )
        except SalesforceAuthenticationFailed as exc:
            raise ApiRequestError(
                f"{what}: the session expired and logging in again failed: {exc}",
                status=401,
                error_code=code,
            ) from exc
        self.relogins += 1

    def _retry_or_raise(
        self, attempt: int, what: str, problem: str, retry_after: str | None = None
    ) -> None:
        self._backoff.retry_or_raise(attempt, what, problem, retry_after)


def _composite_batches(subrequests: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    queries = 0
    for ref, url in subrequests:
        is_query = bool(re.search(r"/(query|queryAll)(/|\?|$)", url.split("?", 1)[0] + "/"))
        if len(batch) >= COMPOSITE_MAX_SUBREQUESTS or (
            is_query and queries >= COMPOSITE_MAX_QUERIES
        ):
            yield batch
            batch, queries = [], 0
        batch.append((ref, url))
        queries += is_query
    if batch:
        yield batch


def _error_of(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return "", text[:200] or response.reason or ""
    return _error_of_body(body)


def _error_of_body(body: Any) -> tuple[str, str]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", "")), str(body[0].get("message", ""))
    if isinstance(body, dict):
        return str(body.get("error", body.get("errorCode", ""))), str(
            body.get("error_description", body.get("message", ""))
        )
    return "", str(body)[:200]


def composite_calls(paths: list[str]) -> int:
    """How many `POST composite` calls `ApiClient.composite` sends for GET subrequests to
    `paths` (for estimates: 25 subrequests per call, at most 5 of them queries)."""
    return sum(1 for _ in _composite_batches([(str(i), path) for i, path in enumerate(paths)]))
