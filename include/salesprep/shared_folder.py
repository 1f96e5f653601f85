"""The shared folder where packets are published: a local path or any fsspec URL (a mounted
share, `s3://`, `gs://`, `abfs://`, `smb://` ...). Paths inside it are joined with `/` on every
platform, so one helper builds them for the packets, the failed-run quality report and the
learnings loop."""

from __future__ import annotations


def join(base: str, *parts: str) -> str:
    """`base` (a URL, a path or an fsspec root) and the relative `parts`, joined with `/`."""
    return "/".join([base.rstrip("/"), *parts])
