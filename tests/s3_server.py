"""A real S3 API for the tests: moto in server mode on a free local port, the fsspec options
and Airflow connection that reach it, and one new bucket per caller that asks for one."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "us-east-1"
# moto accepts any key; these are what every client of the server below presents.
KEY = SECRET = "testing"


@dataclass(frozen=True)
class S3Server:
    """Where moto's S3 listens, and how each kind of client reaches it."""

    endpoint: str

    @property
    def options(self) -> dict[str, Any]:
        """fsspec (s3fs) storage options."""
        return {
            "key": KEY,
            "secret": SECRET,
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": REGION},
        }

    @property
    def airflow_connection(self) -> dict[str, Any]:
        """An `aws` connection (the Amazon provider's) for `storage.conn_id`."""
        return {
            "conn_type": "aws",
            "login": KEY,
            "password": SECRET,
            "extra": {"endpoint_url": self.endpoint, "region_name": REGION},
        }

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.options)

    def new_bucket(self) -> str:
        import boto3

        name = f"salesprep-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name=REGION,
        )
        client.create_bucket(Bucket=name)
        return name


@contextlib.contextmanager
def moto_s3() -> Iterator[S3Server]:
    """moto's server on a free port for the block; skips (naming why) where moto is missing."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is a dev dependency")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
