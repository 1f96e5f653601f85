"""One HTTP exchange of the emulator, decoupled from the socket: the `Request` a handler or an
interceptor (`faults`) reads and the `Response` it answers, and the signatures of both."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from salesprep.emulator.auth import Session
from salesprep.emulator.errors import ApiError


@dataclass
class Request:
    """One HTTP request, decoupled from the socket."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""
    session: Session | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """One HTTP answer; `drop_connection` closes the socket without answering, `truncate`
    sends the headers and half the body, then closes it."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False
    truncate: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status=status, body=json.dumps(payload).encode())

    @classmethod
    def error(cls, exc: ApiError) -> Response:
        return cls(status=exc.status, body=exc.body())


Handler = Callable[[Request], Response]
# An interceptor gets the request and the rest of the chain; it may answer by itself.
Interceptor = Callable[[Request, Handler], Response]
