"""A requests session that sends every Salesforce request to one plain-http instance.

simple-salesforce always builds `https://` URLs (login domain and instance). For a local
emulator, or a fault-injecting proxy in front of one, this session rewrites the scheme and
host of every request, login included, to the configured `http://host:port`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests


class InstanceRewritingSession(requests.Session):
    """Route every request to `instance_url`, keeping path and query."""

    def __init__(self, instance_url: str) -> None:
        super().__init__()
        parts = urlsplit(instance_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"instance URL {instance_url!r} must look like http://host:port")
        self.instance_scheme = parts.scheme
        self.instance_netloc = parts.netloc

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self.instance_scheme, self.instance_netloc, parts.path, parts.query, ""))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any):  # type: ignore[override]
        if isinstance(url, bytes):
            url = url.decode()
        return super().request(method, self.rewrite(url), *args, **kwargs)
