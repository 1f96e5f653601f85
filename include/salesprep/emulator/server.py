"""The emulator's HTTP server: routing, authentication, API usage limits and the run helpers.

`Emulator` turns a `Request` into a `Response` and knows nothing of sockets; `run_emulator`
and `serve` put it behind a `ThreadingHTTPServer`. Interceptors wrap request handling, which
is where fault injection (errors, slow answers, dropped connections) plugs in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from salesprep.emulator import auth, describe, soql
from salesprep.emulator.auth import Credentials, SessionRegistry
from salesprep.emulator.bulk import BulkQueryJobs
from salesprep.emulator.errors import ApiError, malformed_query, not_found
from salesprep.emulator.faults import FaultConfig, FaultInjector
from salesprep.emulator.messages import Handler, Interceptor, Request, Response
from salesprep.emulator.permissions import Permissions, load_permissions
from salesprep.emulator.query import QueryEngine, batch_size_from_header
from salesprep.emulator.store import NoSuchObjectError, OrgStore, StoreError

log = logging.getLogger(__name__)

DEFAULT_DAILY_API_LIMIT = 15000
# (version, release label), oldest first, as `GET /services/data/` lists them.
API_VERSIONS: tuple[tuple[str, str], ...] = (
    ("55.0", "Summer '22"),
    ("56.0", "Winter '23"),
    ("57.0", "Spring '23"),
    ("58.0", "Summer '23"),
    ("59.0", "Winter '24"),
    ("60.0", "Spring '24"),
    ("61.0", "Summer '24"),
    ("62.0", "Winter '25"),
    ("63.0", "Spring '25"),
    ("64.0", "Summer '25"),
)
_VERSIONS = {v for v, _ in API_VERSIONS}
# Composite: at most 25 subrequests per call, of which at most 5 queries.
COMPOSITE_MAX_SUBREQUESTS = 25
COMPOSITE_MAX_QUERIES = 5


@dataclass(frozen=True)
class EmulatorConfig:
    """Tunables of an emulator; the defaults behave like a healthy production org."""

    daily_api_limit: int = DEFAULT_DAILY_API_LIMIT
    session_ttl_seconds: float = auth.DEFAULT_SESSION_TTL_SECONDS
    query_result_ttl_seconds: float = 900.0
    work_dir: Path | None = None  # where DuckDB keeps loaded objects; a temp folder if None
    # The org's Id; None derives a stable one from the org folder's path.
    org_id: str | None = None
    # Daily API requests already used when the emulator starts.
    api_usage: int = 0
    # How far back `sobjects/<Object>/deleted/` answers (Salesforce: 15 days).
    deleted_retention_days: float = 15.0
    # Objects Bulk API 2.0 refuses (as Salesforce does for some system objects).
    bulk_unsupported_objects: frozenset[str] = frozenset()
    faults: FaultConfig | None = None
    # Objects and `Object.Field`s the user cannot see, on top of the org folder's
    # `_permissions.yaml` (see emulator/permissions.py).
    hidden: frozenset[str] = frozenset()


_API_ROOT = re.compile(r"^/services/data/v(?P<version>\d+\.\d)(?P<rest>/.*)?$")
_SOAP_LOGIN = re.compile(r"^/services/Soap/u/(?P<version>\d+\.\d)/?$")
_IDENTITY = re.compile(r"^/id/(?P<org_id>\w+)/(?P<user_id>\w+)/?$")


class Emulator:
    """A Salesforce org served from an org folder: SOAP/OAuth login and the REST API."""

    def __init__(
        self,
        org_dir: Path,
        *,
        credentials: Credentials | None = None,
        config: EmulatorConfig | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.credentials = credentials or Credentials()
        permissions = load_permissions(Path(org_dir)).merged(
            Permissions.parse(self.config.hidden, source="emulator setting hidden")
        )
        self.store = OrgStore(Path(org_dir), work_dir=self.config.work_dir, permissions=permissions)
        # The org's identity: the configured Id, else the org folder's Organization row (as a
        # real org's login reports it), else one derived from the folder's path.
        organization = self.store.organization()
        self.org_id = (
            self.config.org_id
            or (organization[0] if organization else None)
            or derive_org_id(Path(org_dir))
        )
        self.org_name = (organization[1] if organization else None) or auth.ORG_NAME
        self.sessions = SessionRegistry(
            self.config.session_ttl_seconds, org_id=self.org_id, org_name=self.org_name
        )
        self.queries = QueryEngine(
            self.store, result_ttl_seconds=self.config.query_result_ttl_seconds
        )
        self.bulk_jobs = BulkQueryJobs(self.queries)
        self.daily_api_limit = self.config.daily_api_limit
        self.interceptors: list[Interceptor] = []
        self._api_calls = self.config.api_usage
        self._usage_lock = threading.Lock()
        self.faults: FaultInjector | None = None
        if self.config.faults is not None:
            self.faults = FaultInjector(self, self.config.faults)
            self.interceptors.append(self.faults)
            if self.config.faults.exhaust_daily_limit:
                self._api_calls = self.daily_api_limit
        # (method, path regex relative to /services/data/vXX.X, handler), first match wins.
        self.api_routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"^/?$"), self._resources),
            ("GET", re.compile(r"^/limits/?$"), self._limits),
            ("GET", re.compile(r"^/sobjects/?$"), self._describe_global),
            ("GET", re.compile(r"^/sobjects/(?P<name>\w+)/describe/?$"), self._describe),
            ("GET", re.compile(r"^/sobjects/(?P<name>\w+)/deleted/?$"), self._deleted),
            ("GET", re.compile(r"^/sobjects/(?P<name>\w+)/?$"), self._sobject),
            ("GET", re.compile(r"^/(?P<endpoint>query|queryAll)/?$"), self._query),
            (
                "GET",
                re.compile(r"^/(?P<endpoint>query|queryAll)/(?P<locator>\w+)-(?P<offset>\d+)/?$"),
                self._query_more,
            ),
            ("GET", re.compile(r"^/jobs/query/?$"), self._bulk_list),
            ("POST", re.compile(r"^/jobs/query/?$"), self._bulk_create),
            ("GET", re.compile(r"^/jobs/query/(?P<job_id>\w+)/?$"), self._bulk_get),
            ("PATCH", re.compile(r"^/jobs/query/(?P<job_id>\w+)/?$"), self._bulk_abort),
            ("DELETE", re.compile(r"^/jobs/query/(?P<job_id>\w+)/?$"), self._bulk_delete),
            ("GET", re.compile(r"^/jobs/query/(?P<job_id>\w+)/results/?$"), self._bulk_results),
            ("POST", re.compile(r"^/composite/?$"), self._composite),
        ]

    # ------------------------------------------------------------------------ plumbing

    @property
    def api_calls(self) -> int:
        """REST API requests counted against the daily limit so far."""
        with self._usage_lock:
            return self._api_calls

    def close(self) -> None:
        self.bulk_jobs.close()
        self.queries.close()
        self.store.close()

    def handle(self, request: Request) -> Response:
        """Answer one request, through the interceptors."""
        chain: Handler = self._dispatch
        for interceptor in reversed(self.interceptors):
            chain = _bind(interceptor, chain)
        return chain(request)

    def _dispatch(self, request: Request) -> Response:
        try:
            path = request.path
            if path.rstrip("/") == "/services/data":
                return self._versions(request)
            match = _API_ROOT.match(path)
            if match:
                return self._api(request, match["version"], match["rest"] or "/")
            match = _SOAP_LOGIN.match(path)
            if match and request.method == "POST":
                status, body = auth.soap_login(
                    request.body,
                    credentials=self.credentials,
                    sessions=self.sessions,
                    instance_url=_instance_url(request),
                    version=match["version"],
                )
                return Response(status, body, content_type="text/xml;charset=UTF-8")
            match = _IDENTITY.match(path)
            if match and request.method == "GET":
                self.sessions.validate(auth.bearer_token(request.header("Authorization")))
                return Response.json(
                    auth.identity(
                        self.sessions,
                        self.credentials,
                        _instance_url(request),
                        match["org_id"],
                        match["user_id"],
                    )
                )
            if path.rstrip("/") == "/services/oauth2/token" and request.method == "POST":
                form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()}
                status, body = auth.oauth_token(
                    form,
                    credentials=self.credentials,
                    sessions=self.sessions,
                    instance_url=_instance_url(request),
                )
                return Response(status, body)
            raise not_found()
        except ApiError as exc:
            return Response.error(exc)

    def _api(self, request: Request, version: str, rest: str) -> Response:
        if version not in _VERSIONS:
            return Response.error(not_found())
        try:
            token = auth.bearer_token(request.header("Authorization"))
            request.session = self.sessions.validate(token)
            with self._usage_lock:
                if self._api_calls >= self.daily_api_limit:
                    raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
                self._api_calls += 1
            response = self._route(request, version, rest)
        except ApiError as exc:
            response = Response.error(exc)
        except StoreError as exc:
            log.error("cannot serve %s: %s", request.path, exc)
            response = Response.error(ApiError(500, "UNKNOWN_EXCEPTION", str(exc)))
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_calls}/{self.daily_api_limit}"
        return response

    def _route(self, request: Request, version: str, rest: str) -> Response:
        allowed = set()
        for method, pattern, handler in self.api_routes:
            match = pattern.match(rest)
            if match is None:
                continue
            if method != request.method:
                allowed.add(method)
                continue
            return handler(request, version, **match.groupdict())
        if allowed:
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are "
                + ",".join(sorted(allowed)),
            )
        raise not_found()

    # ------------------------------------------------------------------------ resources

    def _versions(self, request: Request) -> Response:
        return Response.json(
            [
                {"label": label, "url": f"/services/data/v{v}", "version": v}
                for v, label in API_VERSIONS
            ]
        )

    def _resources(self, request: Request, version: str) -> Response:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "jobs", "composite")
        return Response.json({name: f"{base}/{name}" for name in names})

    def _limits(self, request: Request, version: str) -> Response:
        used = self.api_calls
        return Response.json(
            {
                "DailyApiRequests": {
                    "Max": self.daily_api_limit,
                    "Remaining": max(0, self.daily_api_limit - used),
                }
            }
        )

    def _schema(self, name: str):
        try:
            return self.store.schema(name)
        except NoSuchObjectError as exc:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"The requested resource does not exist: sObject type '{name}' is not supported.",
            ) from exc

    def _describe_global(self, request: Request, version: str) -> Response:
        schemas = [self.store.schema(n) for n in self.store.object_names()]
        return Response.json(describe.describe_global(schemas, version))

    def _describe(self, request: Request, version: str, name: str) -> Response:
        return Response.json(describe.describe_sobject(self._schema(name), version))

    def _sobject(self, request: Request, version: str, name: str) -> Response:
        schema = self._schema(name)
        return Response.json(
            {"objectDescribe": describe.describe_summary(schema, version), "recentItems": []}
        )

    def _query(self, request: Request, version: str, endpoint: str) -> Response:
        text = request.param("q")
        if text is None:
            raise malformed_query("A query string has to be specified")
        body = self.queries.run(
            text,
            include_deleted=endpoint == "queryAll",
            batch_size=batch_size_from_header(request.header("Sforce-Query-Options")),
            version=version,
            endpoint=endpoint,
        )
        return Response(body=body)

    def _query_more(
        self, request: Request, version: str, endpoint: str, locator: str, offset: str
    ) -> Response:
        options = request.header("Sforce-Query-Options")
        body = self.queries.more(
            locator,
            int(offset),
            batch_size=batch_size_from_header(options) if options else None,
            version=version,
            endpoint=endpoint,
        )
        return Response(body=body)

    def _deleted(self, request: Request, version: str, name: str) -> Response:
        """`sobjects/<Object>/deleted/?start=...&end=...`: records deleted in the window."""
        schema = self._schema(name)
        start = _replication_date(request.param("start"), "start")
        end = _replication_date(request.param("end"), "end")
        if start >= end:
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate"
            )
        earliest = datetime.now(UTC) - timedelta(days=self.config.deleted_retention_days)
        if start < earliest:
            raise ApiError(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be before earliestDateAvailable {_sf_datetime(earliest)}",
            )
        naive = [d.astimezone(UTC).replace(tzinfo=None) for d in (start, end)]
        records = self.store.deleted_records(schema.name, naive[0], naive[1])
        return Response.json(
            {
                "deletedRecords": [
                    {"id": record_id, "deletedDate": _sf_datetime(at)} for record_id, at in records
                ],
                "earliestDateAvailable": _sf_datetime(earliest),
                "latestDateCovered": _sf_datetime(end),
            }
        )

    def _composite(self, request: Request, version: str) -> Response:
        """`POST /composite`: independent GET subrequests, answered together, one API call."""
        payload = _json_body(request)
        subrequests = payload.get("compositeRequest") if isinstance(payload, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty list")
        if len(subrequests) > COMPOSITE_MAX_SUBREQUESTS:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"A composite request can have at most {COMPOSITE_MAX_SUBREQUESTS} subrequests",
            )
        paths = [urlsplit(str(sub.get("url", ""))).path for sub in subrequests]
        queries = sum(1 for p in paths if re.search(r"/(query|queryAll)(/|$)", p))
        if queries > COMPOSITE_MAX_QUERIES:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"A composite request can have at most {COMPOSITE_MAX_QUERIES} query subrequests",
            )
        answers = [self._subrequest(request, sub) for sub in subrequests]
        return Response.json({"compositeResponse": answers})

    def _subrequest(self, request: Request, sub: Any) -> dict[str, Any]:
        reference = sub.get("referenceId") if isinstance(sub, dict) else None
        try:
            if not isinstance(sub, dict) or not reference or not isinstance(sub.get("url"), str):
                raise ApiError(400, "INVALID_INPUT", "a subrequest needs url and referenceId")
            if "@{" in sub["url"]:
                raise ApiError(400, "INVALID_INPUT", "the emulator does not resolve references")
            parts = urlsplit(sub["url"])
            match = _API_ROOT.match(parts.path)
            if match is None or (match["rest"] or "").startswith("/composite"):
                raise not_found(f"composite cannot run {sub['url']}")
            if match["version"] not in _VERSIONS:
                raise not_found()
            headers = Message()
            for name, value in (sub.get("httpHeaders") or {}).items():
                headers[name] = str(value)
            body = sub.get("body")
            inner = Request(
                method=str(sub.get("method", "GET")).upper(),
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=headers,
                body=json.dumps(body).encode() if body is not None else b"",
                session=request.session,
            )
            response = self._route(inner, match["version"], match["rest"] or "/")
        except ApiError as exc:
            response = Response.error(exc)
        except StoreError as exc:
            response = Response.error(ApiError(500, "UNKNOWN_EXCEPTION", str(exc)))
        is_json = response.content_type.startswith("application/json") and response.body
        return {
            "body": json.loads(response.body) if is_json else None,
            "httpHeaders": dict(response.headers),
            "httpStatusCode": response.status,
            "referenceId": reference,
        }

    # ------------------------------------------------------------------ Bulk API 2.0

    def _bulk_create(self, request: Request, version: str) -> Response:
        payload = _json_body(request)
        if isinstance(payload, dict) and isinstance(payload.get("query"), str):
            unsupported = {n.lower() for n in self.config.bulk_unsupported_objects}
            name = soql.parse(payload["query"]).sobject
            if name.lower() in unsupported:
                raise ApiError(
                    400, "INVALIDJOB", f"Entity '{name}' is not supported by the Bulk API."
                )
        return Response.json(self.bulk_jobs.create(payload, version))

    def _bulk_list(self, request: Request, version: str) -> Response:
        return Response.json(self.bulk_jobs.list())

    def _bulk_get(self, request: Request, version: str, job_id: str) -> Response:
        return Response.json(self.bulk_jobs.get(job_id))

    def _bulk_abort(self, request: Request, version: str, job_id: str) -> Response:
        return Response.json(self.bulk_jobs.abort(job_id, _json_body(request)))

    def _bulk_delete(self, request: Request, version: str, job_id: str) -> Response:
        self.bulk_jobs.delete(job_id)
        return Response(status=204)

    def _bulk_results(self, request: Request, version: str, job_id: str) -> Response:
        body, headers = self.bulk_jobs.results(
            job_id, request.param("locator"), request.param("maxRecords")
        )
        return Response(body=body, content_type="text/csv;charset=UTF-8", headers=headers)


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"The request body is not JSON: {exc}") from exc


def derive_org_id(org_dir: Path) -> str:
    """A stable 18-character org Id for an org folder without an Organization row: one
    folder, one org. The suffix is the real case-safe checksum, as Salesforce's."""
    from salesprep.demo_org.ids import checksum

    digest = hashlib.sha1(str(Path(org_dir).resolve()).encode()).hexdigest()[:12].upper()
    return f"00D{digest}" + checksum(f"00D{digest}")


def _sf_datetime(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _replication_date(text: str | None, name: str) -> datetime:
    from salesprep.org_folder import parse_datetime

    if not text:
        raise ApiError(400, "MISSING_ARGUMENT", f"The '{name}' parameter is required")
    try:
        # An unencoded '+' of the offset arrives as a space.
        return parse_datetime(text.replace(" ", "+"))
    except ValueError as exc:
        raise ApiError(
            400, "INVALID_REPLICATION_DATE", f"'{text}' is not a valid ISO 8601 {name} date"
        ) from exc


def _bind(interceptor: Interceptor, rest: Handler) -> Handler:
    return lambda request: interceptor(request, rest)


def _instance_url(request: Request) -> str:
    """The emulator's own base URL as the client reached it (clients rewrite https to http)."""
    host = request.header("Host") or "127.0.0.1"
    return f"http://{host}"


# ---------------------------------------------------------------------------- HTTP server


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: simple-salesforce reuses its connections
    server: _EmulatorHTTPServer

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
        )
        try:
            response = self.server.emulator.handle(request)
        except Exception as exc:  # a bug must answer 500, not kill the connection silently
            log.exception("emulator failed on %s %s", self.command, self.path)
            response = Response.error(ApiError(500, "UNKNOWN_EXCEPTION", repr(exc)))
        if response.drop_connection:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            if response.truncate:
                self.wfile.write(response.body[: len(response.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _RequestHandler)


@dataclass
class EmulatorHandle:
    """A running emulator: where it listens, how many API calls it answered, how to stop it."""

    base_url: str
    emulator: Emulator
    _server: _EmulatorHTTPServer
    _thread: threading.Thread

    @property
    def api_calls(self) -> int:
        return self.emulator.api_calls

    @property
    def credentials(self) -> Credentials:
        return self.emulator.credentials

    def stop(self) -> None:
        """Stop serving and release the org data; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
            self.emulator.close()


def _start(
    org_dir: Path,
    host: str,
    port: int,
    credentials: Credentials | None,
    config: EmulatorConfig | None,
) -> EmulatorHandle:
    emulator = Emulator(org_dir, credentials=credentials, config=config)
    try:
        server = _EmulatorHTTPServer((host, port), emulator)
    except OSError as exc:
        emulator.close()
        raise OSError(f"cannot listen on {host}:{port} for the Salesforce emulator: {exc}") from exc
    bound_host, bound_port = server.server_address[:2]
    display_host = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
    thread = threading.Thread(
        target=server.serve_forever, name=f"salesforce-emulator-{bound_port}", daemon=True
    )
    thread.start()
    return EmulatorHandle(f"http://{display_host}:{bound_port}", emulator, server, thread)


@contextmanager
def run_emulator(
    org_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    credentials: Credentials | None = None,
    config: EmulatorConfig | None = None,
) -> Iterator[EmulatorHandle]:
    """Serve `org_dir` in a background thread for the duration of the `with` block."""
    handle = _start(Path(org_dir), host, port, credentials, config)
    log.info("Salesforce emulator serving %s at %s", org_dir, handle.base_url)
    try:
        yield handle
    finally:
        handle.stop()


def serve(
    org_dir: Path,
    *,
    host: str,
    port: int,
    credentials: Credentials | None = None,
    config: EmulatorConfig | None = None,
) -> None:
    """Serve `org_dir` until interrupted (Ctrl-C); for the CLI."""
    handle = _start(Path(org_dir), host, port, credentials, config)
    log.info("Salesforce emulator serving %s at %s", org_dir, handle.base_url)
    try:
        while handle._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        log.info("stopping the Salesforce emulator at %s", handle.base_url)
    finally:
        handle.stop()
