"""Fault injection for the emulator: errors by status, session expiry, slow answers, dropped
connections, records edited while a client pages, an exhausted daily API limit, and composed
faults aimed at one kind of request: the re-login after a session expiry, a Bulk result
download, a Bulk job poll.

A `FaultInjector` is an interceptor (`Emulator.interceptors`). Its random draws come from one
seeded generator, so a sequential client sees the same faults on every run, and it never
injects more than `max_consecutive` failures in a row, so a client that retries enough always
gets through. The random faults affect REST API requests (`/services/data/vXX.X/...`) only;
the aimed ones count their requests (`relogin_errors` logins after each expiry, the first
`bulk_result_drops` result downloads, the first `bulk_poll_429s` job polls).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol

from salesprep.emulator import soql
from salesprep.emulator.errors import ApiError
from salesprep.emulator.messages import Handler, Request, Response

if TYPE_CHECKING:
    from salesprep.emulator.auth import SessionRegistry
    from salesprep.emulator.bulk import BulkQueryJobs
    from salesprep.emulator.store import OrgStore

log = logging.getLogger(__name__)

_API_REQUEST = re.compile(r"^/services/data/v\d+\.\d/")
_FIRST_QUERY_PAGE = re.compile(r"^/services/data/v\d+\.\d/(query|queryAll)/?$")
_BULK_JOB_CREATE = re.compile(r"^/services/data/v\d+\.\d/jobs/query/?$")
_BULK_RESULTS = re.compile(r"^/services/data/v\d+\.\d/jobs/query/(?P<job_id>\w+)/results/?$")
_BULK_JOB = re.compile(r"^/services/data/v\d+\.\d/jobs/query/\w+/?$")
_LOGIN = re.compile(r"^/services/(Soap/u/\d+\.\d|oauth2/token)/?$")

# What each injected status answers, as Salesforce (or the load balancer in front) does.
_ERRORS: dict[int, tuple[str, str]] = {
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests: retry later (injected)."),
    403: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded (injected)."),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred (injected)."),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry (injected)."),
}
_GATEWAY_PAGES = {502: "Bad Gateway", 504: "Gateway Timeout"}


class FaultConfigError(ValueError):
    """A fault setting that makes no sense; the message names it."""


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject, and how often (rates are probabilities per API request)."""

    seed: int = 0
    # HTTP status -> probability, e.g. {503: 0.2, 500: 0.05}; 403 is concurrency throttling.
    error_rates: dict[int, float] = field(default_factory=dict)
    # Never more than this many injected failures (errors, drops, timeouts) in a row.
    max_consecutive: int = 2
    # Expire every session each time this many API requests have been answered (0: never).
    session_expiry_every: int = 0
    slow_seconds: float = 0.0
    slow_rate: float = 0.0
    # Answer only half of the body, then close the connection.
    drop_rate: float = 0.0
    # Records of an object edited right after the first page of a paged query on it.
    modify_while_paging: int = 0
    exhaust_daily_limit: bool = False
    # After each session expiry, the next `relogin_errors` logins answer this status (a login
    # server or load balancer in trouble): a plain HTML page, as gateways send.
    relogin_errors: int = 0
    relogin_error_status: int = 503
    # The first N Bulk result downloads are cut mid-answer; the first N job polls answer 429.
    bulk_result_drops: int = 0
    bulk_poll_429s: int = 0

    def __post_init__(self) -> None:
        for status, rate in self.error_rates.items():
            if status not in _ERRORS and status not in _GATEWAY_PAGES:
                known = ", ".join(str(s) for s in sorted({*_ERRORS, *_GATEWAY_PAGES}))
                raise FaultConfigError(f"fault error status {status} is not one of {known}")
            _check_rate(f"error rate for {status}", rate)
        _check_rate("slow rate", self.slow_rate)
        _check_rate("drop rate", self.drop_rate)
        if self.max_consecutive < 1:
            raise FaultConfigError("fault max_consecutive must be at least 1")
        counts = (
            self.session_expiry_every,
            self.modify_while_paging,
            self.relogin_errors,
            self.bulk_result_drops,
            self.bulk_poll_429s,
        )
        if min(counts) < 0:
            raise FaultConfigError("fault counts cannot be negative")
        if not 400 <= self.relogin_error_status <= 599:
            raise FaultConfigError(
                f"fault relogin_error_status {self.relogin_error_status} is not an HTTP error"
            )
        if self.slow_seconds < 0:
            raise FaultConfigError("fault slow_seconds cannot be negative")


def _check_rate(name: str, rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise FaultConfigError(f"fault {name} {rate} must be between 0 and 1")


class FaultTarget(Protocol):
    """What the injector touches of the emulator it is installed in (`server.Emulator`)."""

    sessions: SessionRegistry
    bulk_jobs: BulkQueryJobs
    store: OrgStore


class FaultInjector:
    """The interceptor injecting `config`'s faults into `emulator`; `injected` counts them."""

    def __init__(self, emulator: FaultTarget, config: FaultConfig) -> None:
        self.emulator = emulator
        self.config = config
        self.injected: Counter[str] = Counter()
        # Object name -> Ids edited while a client paged through it.
        self.modified: dict[str, list[str]] = {}
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._requests = 0
        self._consecutive = 0
        self._relogin_errors_left = 0
        self._bulk_drops_left = config.bulk_result_drops
        self._poll_429s_left = config.bulk_poll_429s

    def __call__(self, request: Request, forward: Handler) -> Response:
        if _LOGIN.match(request.path):
            return self._login(request, forward)
        if not _API_REQUEST.match(request.path):
            return forward(request)
        aimed = self._aimed(request, forward)
        if aimed is not None:
            return aimed
        with self._lock:
            self._requests += 1
            every = self.config.session_expiry_every
            if every and self._requests % every == 0:
                self.emulator.sessions.expire_all()
                self.injected["session_expiry"] += 1
                self._relogin_errors_left = self.config.relogin_errors
            capped = self._consecutive >= self.config.max_consecutive
            slow = self._draw(self.config.slow_rate)
            status = self._error_status(capped)
            drop = self._draw(self.config.drop_rate) and status is None and not capped
            if status is not None or drop:
                self._consecutive += 1
        if slow and self.config.slow_seconds:
            self.injected["slow"] += 1
            time.sleep(self.config.slow_seconds)
        if status is not None:
            self.injected[f"error_{status}"] += 1
            return _error_response(status)
        response = forward(request)
        if response.status < 400 and not drop:
            # Only an answered request ends a streak: an expired session's 401 does not.
            with self._lock:
                self._consecutive = 0
        if drop:
            self.injected["drop"] += 1
            if request.method == "POST" and _BULK_JOB_CREATE.match(request.path):
                # The job exists, but the client never learns its Id: it is left to Salesforce
                # to expire (as a lost answer leaves it on a real org).
                self.injected["drop_bulk_job_created"] += 1
            response.truncate = True
            return response
        if self.config.modify_while_paging and response.status == 200:
            self._maybe_modify(request, response)
        return response

    def _login(self, request: Request, forward: Handler) -> Response:
        with self._lock:
            fail = self._relogin_errors_left > 0
            if fail:
                self._relogin_errors_left -= 1
        if not fail:
            return forward(request)
        status = self.config.relogin_error_status
        self.injected[f"relogin_error_{status}"] += 1
        return _gateway_page(status)

    def _aimed(self, request: Request, forward: Handler) -> Response | None:
        """The faults aimed at one kind of Bulk request, counted down."""
        if request.method != "GET":
            return None
        with self._lock:
            drop = bool(_BULK_RESULTS.match(request.path)) and self._bulk_drops_left > 0
            throttle = bool(_BULK_JOB.match(request.path)) and self._poll_429s_left > 0
            self._bulk_drops_left -= drop
            self._poll_429s_left -= throttle
        if throttle:
            self.injected["bulk_poll_429"] += 1
            return _error_response(429)
        if drop:
            response = forward(request)
            self.injected["bulk_result_drop"] += 1
            response.truncate = True
            return response
        return None

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def _error_status(self, capped: bool) -> int | None:
        # Draw for every status on every request, so one fault never shifts the others.
        draws = {status: self._rng.random() for status in sorted(self.config.error_rates)}
        if capped:
            return None
        for status, draw in draws.items():
            if draw < self.config.error_rates[status]:
                return status
        return None

    def _maybe_modify(self, request: Request, response: Response) -> None:
        name = None
        if _FIRST_QUERY_PAGE.match(request.path) and b'"done":false' in response.body[:200]:
            try:
                name = soql.parse(request.param("q") or "").sobject
            except ApiError:
                return
        match = _BULK_RESULTS.match(request.path)
        more = response.headers.get("Sforce-Locator", "null") != "null"
        if match and more and not request.param("locator"):
            try:
                name = self.emulator.bulk_jobs.get(match["job_id"])["object"]
            except ApiError:
                return
        if name is None:
            return
        schema_name = self.emulator.store.schema(name).name
        with self._lock:
            if schema_name in self.modified:
                return
            self.modified[schema_name] = []
            rng = random.Random(f"{self.config.seed}:{schema_name}")
        ids = self.emulator.store.modify_records(
            schema_name, self.config.modify_while_paging, rng=rng
        )
        with self._lock:
            self.modified[schema_name] = ids
            self.injected["modified_records"] += len(ids)
        log.info("fault: edited %d %s records while a client pages", len(ids), schema_name)


def _gateway_page(status: int) -> Response:
    title = _GATEWAY_PAGES.get(status) or HTTPStatus(status).phrase
    page = f"<html><body><h1>{status} {title}</h1></body></html>"
    return Response(status=status, body=page.encode(), content_type="text/html")


def _error_response(status: int) -> Response:
    if status in _GATEWAY_PAGES:
        return _gateway_page(status)
    code, message = _ERRORS[status]
    return Response.json([{"message": message, "errorCode": code}], status=status)
