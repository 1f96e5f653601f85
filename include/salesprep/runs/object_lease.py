"""The run lease on object storage, for workers that share no disk (`run_lease=object`): one
object, `<storage.url>/state/run.lease`, written with S3's conditional writes; a `LeaseStore`
(`runs.lease`), so claiming, takeover and renewal follow the same rules as the file's.

Creating is a PUT with `If-None-Match: *` (the store refuses it when the object exists, so of
two claimers exactly one wins); renewing and removing are a PUT or DELETE with
`If-Match: <the ETag read>`, so they fail when someone else changed the lease since it was
read (a stale holder's lease is removed only while it is still that holder's).
"""

from __future__ import annotations

import errno
import json
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING

from salesprep.runs.lease import LEASE_FILE, Lease, LeaseError, lease_from_dict

if TYPE_CHECKING:
    import fsspec

log = logging.getLogger(__name__)


class ObjectLease:
    """The lease object `path` on the fsspec filesystem `fs` (S3: s3fs)."""

    def __init__(self, fs: fsspec.AbstractFileSystem, path: str) -> None:
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        if not {"s3", "s3a"} & set(protocols):
            raise LeaseError(
                f"the run lease on {fs.unstrip_protocol(path)} needs conditional writes, which "
                "salesprep uses on S3 only; set run_lease=file (a shared disk) there"
            )
        self.fs = fs
        self.path = path
        self.description = f"the object {fs.unstrip_protocol(path)}"

    @classmethod
    def under(cls, fs: fsspec.AbstractFileSystem, root: str) -> ObjectLease:
        """The lease of the shared data under `root`."""
        return cls(fs, f"{root.rstrip('/')}/state/{LEASE_FILE}")

    def __str__(self) -> str:
        return self.fs.unstrip_protocol(self.path)

    # ------------------------------------------------------------------ the LeaseStore

    def create(self, lease: Lease) -> bool:
        created = self._put(lease, create=True)
        if created:
            log.debug("created the run lease %s", self)
        return created

    def read(self) -> Lease | None:
        read = self._read()
        return read[0] if read else None

    def replace(self, lease: Lease) -> bool:
        read = self._read()
        if read is None or read[0] != lease:
            return False
        return self._put(lease, etag=read[1])

    def remove(self, holder: Lease) -> None:
        read = self._read()
        if read is not None and read[0] == holder:
            self._delete(read[1])

    # ------------------------------------------------------------------ S3 requests

    def _read(self) -> tuple[Lease, str] | None:
        """The lease and its ETag, read consistently (the ETag did not change meanwhile)."""
        fs = self.fs
        for _ in range(5):
            try:
                before = fs.info(self.path, refresh=True)["ETag"]
                body = fs.cat_file(self.path)
                after = fs.info(self.path, refresh=True)["ETag"]
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise LeaseError(f"reading the run lease {self} failed: {exc}") from exc
            if before == after:
                try:
                    return lease_from_dict(json.loads(body)), after
                except (ValueError, KeyError, TypeError) as exc:
                    raise LeaseError(
                        f"the run lease {self} cannot be read: {exc}; delete it by hand"
                    ) from exc
        raise LeaseError(f"the run lease {self} keeps changing while it is read")

    def _put(self, lease: Lease, *, create: bool = False, etag: str = "") -> bool:
        """PUT the lease, if absent (`create`) or still at `etag`; False when refused."""
        payload = json.dumps(asdict(lease)).encode("utf-8")
        condition = {"IfNoneMatch": "*"} if create else {"IfMatch": etag}
        try:
            self.fs.pipe_file(self.path, payload, **condition)
        except FileExistsError:
            return False
        except OSError as exc:
            if _precondition_failed(exc):
                return False
            raise LeaseError(f"writing the run lease {self} failed: {exc}") from exc
        finally:
            self.fs.invalidate_cache(self.path)
        return True

    def _delete(self, etag: str) -> bool:
        bucket, key, _ = self.fs.split_path(self.path)
        try:
            self.fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=etag)
        except FileNotFoundError:
            return False
        except OSError as exc:
            if _precondition_failed(exc):
                return False
            raise LeaseError(f"releasing the run lease {self} failed: {exc}") from exc
        finally:
            self.fs.invalidate_cache(self.path)
        return True


def _precondition_failed(exc: OSError) -> bool:
    """s3fs's error for HTTP 412 (a condition that did not hold)."""
    return exc.errno == errno.EINVAL or "PreconditionFailed" in str(exc) or "412" in str(exc)
