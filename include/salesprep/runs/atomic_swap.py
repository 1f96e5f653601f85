"""Build in a staging place, then rename into place: the one way salesprep replaces a file or
a folder that someone may be reading (the raw landing zone, the published warehouse, a week's
rendered packets and quality pages, a week of the shared folder), and the sweeping of what a
run that died half-way left behind.

Everything a swap creates sits beside its target and is named
`.<target>.<kind>-<host>-<pid>-<token>`: `staging` (the new version being built), `old` (the
version it replaces, kept until the swap is finished so that it can be put back) and `work`
(scratch space). A reader of the target sees the old version or the new one, never a mix. A
run killed at any point leaves only such names; `sweep` removes the ones whose process is gone,
and puts a set-aside `old` back when the kill fell between the swap's two renames (the target
is missing). Names of earlier salesprep versions (`.raw.incoming-*`, `.staging-<week>-*`, ...)
are swept the same way.

`Swap` is one staged replacement; `commit_together` swaps several as one unit (the warehouse
and the packets of a week) and puts the first back if a later one fails. `RemoteSwap` is the
same for a folder on an object store (any fsspec filesystem), which has no rename: a week of
the shared folder, and the raw landing zone, rendered weeks and quality reports under
`storage.url`; `sweep_remote` is its `sweep`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from salesprep.runs.process_owner import ProcessOwner, this_host

if TYPE_CHECKING:
    import fsspec

log = logging.getLogger(__name__)

KINDS = ("staging", "old", "work")
_LEFTOVER = re.compile(
    r"^\.(?P<target>.+)\.(?P<kind>staging|old|work)-(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-[0-9a-f]{8}$"
)
# Names earlier versions used (no owner recorded): target, kind.
_LEGACY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\.(?P<target>.+)\.incoming-[0-9a-f]{8}$"), "staging"),
    (re.compile(r"^\.(?P<target>.+)\.work-[0-9a-f]{8}$"), "work"),
    (re.compile(r"^\.(?P<target>.+)\.previous-[0-9a-f]{8}$"), "old"),
    (re.compile(r"^\.(?P<target>.+)\.\d+\.(publishing|partial)$"), "staging"),
    (re.compile(r"^\.(?P<target>.+)\.\d+\.old$"), "old"),
    (re.compile(r"^\.staging-(?P<target>\d{4}-W\d{2})-[0-9a-f]+$"), "staging"),
    (re.compile(r"^\.old-(?P<target>\d{4}-W\d{2})-[0-9a-f]+$"), "old"),
    (re.compile(r"^\.(?P<target>.+)\.partial$"), "staging"),
    (re.compile(r"^\.(?P<target>packets)\.old$"), "old"),
)
# Temp folders whose name records no owner are swept once they are this old.
_UNOWNED_TEMP_MAX_AGE_SECONDS = 24 * 3600


class AtomicSwapError(OSError):
    """A staged version could not be put in place (or back); the message names the paths."""


@dataclass(frozen=True)
class Leftover:
    """Something a swap left beside its target."""

    path: Path
    target: str
    kind: str
    owner: ProcessOwner | None  # None: a name of an earlier version, which recorded no owner

    @property
    def live(self) -> bool:
        """Whether a process that still runs may be using it (this process counts as live:
        a sweep never takes what the caller itself is building)."""
        if self.owner is None:
            return False
        if self.owner.is_current:
            return True
        # Another host's leftover: the run lease makes this run the only writer, so it is dead.
        return bool(self.owner.is_running())


def leftover_name(target: str, kind: str) -> str:
    """`.<target>.<kind>-<host>-<pid>-<token>`: the name of a swap's staging, old or work item."""
    if kind not in KINDS:
        raise ValueError(f"leftover kind {kind!r} is not one of {', '.join(KINDS)}")
    owner = ProcessOwner.current()
    return f".{target}.{kind}-{owner.host}-{owner.pid}-{secrets.token_hex(4)}"


def parse_leftover(path: Path) -> Leftover | None:
    """The leftover `path` names, or None for any other name."""
    match = _LEFTOVER.match(path.name)
    if match:
        owner = ProcessOwner(match["host"], int(match["pid"]))
        return Leftover(path, match["target"], match["kind"], owner)
    for pattern, kind in _LEGACY:
        match = pattern.match(path.name)
        if match:
            return Leftover(path, match["target"], kind, None)
    return None


def leftovers(folder: Path, target: str | None = None) -> list[Leftover]:
    """The leftovers in `folder` (of `target` only, when given), live ones included."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        item = parse_leftover(path)
        if item is not None and (target is None or item.target == target):
            found.append(item)
    return found


def sweep(folder: Path, target: str | None = None) -> list[Path]:
    """Remove what dead runs left in `folder` (beside `target` only, when given) and return
    what was removed or restored. A set-aside old version whose target is missing goes back
    into place: the run died between the two renames of its swap."""
    dead = [item for item in leftovers(folder, target) if not item.live]
    handled: list[Path] = []
    olds: dict[str, list[Leftover]] = {}
    for item in dead:
        if item.kind == "old":
            olds.setdefault(item.target, []).append(item)
            continue
        _remove(item.path)
        handled.append(item.path)
    for name, items in olds.items():
        items.sort(key=lambda i: _mtime(i.path), reverse=True)
        destination = Path(folder) / name
        if not _exists(destination):
            os.rename(items[0].path, destination)
            log.warning(
                "put %s back in place from %s, left by a run that died", name, items[0].path
            )
            handled.append(items[0].path)
            items = items[1:]
        for item in items:
            _remove(item.path)
            handled.append(item.path)
    if handled:
        log.warning(
            "swept %d leftover(s) of runs that died in %s: %s",
            len(handled),
            folder,
            ", ".join(p.name for p in handled),
        )
    return handled


class Staged(Protocol):
    """What `commit_together` swaps: a `Swap`, or a stage of the same shape on another kind of
    storage (a week of packets on an object store)."""

    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def finish(self) -> None: ...
    def discard(self) -> None: ...


class Swap:
    """One staged replacement of `target`, a folder (default) or a file.

    Build the new version at `staging` (a folder is created empty; a file is for the caller to
    write), then `commit()` puts it in place and keeps the replaced version aside, `finish()`
    drops that, and `rollback()` after a commit puts the replaced version back. `discard()`
    before a commit drops the staged version."""

    def __init__(self, target: Path, *, folder: bool = True) -> None:
        self.target = Path(target)
        self.folder = folder
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.target.with_name(leftover_name(self.target.name, "staging"))
        self._aside: Path | None = None
        self.committed = False
        if folder:
            self.staging.mkdir()

    def commit(self) -> None:
        """Put the staged version in place; the replaced one stays aside until `finish()`."""
        if self.committed:
            return
        aside = self.target.with_name(leftover_name(self.target.name, "old"))
        try:
            if self.folder:
                if _exists(self.target):
                    os.rename(self.target, aside)
                    self._aside = aside
                try:
                    os.rename(self.staging, self.target)
                except OSError:
                    if self._aside is not None:
                        os.rename(self._aside, self.target)
                        self._aside = None
                    raise
            else:
                if _exists(self.target):
                    _keep_copy(self.target, aside)
                    self._aside = aside
                # A file is replaced in one step: readers never find it missing.
                os.replace(self.staging, self.target)
        except OSError as exc:
            if self._aside is not None and not self.folder:
                self._aside.unlink(missing_ok=True)
                self._aside = None
            raise AtomicSwapError(
                f"cannot move the new version of {self.target} into place from {self.staging}: "
                f"{exc}"
            ) from exc
        self.committed = True

    def rollback(self) -> None:
        """Undo a commit (put the replaced version back), or discard an uncommitted stage."""
        if not self.committed:
            self.discard()
            return
        try:
            if self.folder:
                undone = self.target.with_name(leftover_name(self.target.name, "staging"))
                os.rename(self.target, undone)
                if self._aside is not None:
                    os.rename(self._aside, self.target)
                _remove(undone)
            elif self._aside is not None:
                os.replace(self._aside, self.target)
            else:
                self.target.unlink(missing_ok=True)
        except OSError as exc:
            raise AtomicSwapError(
                f"cannot put the previous version of {self.target} back: {exc}; the next run "
                "restores it from the set-aside copy beside it"
            ) from exc
        self._aside = None
        self.committed = False

    def finish(self) -> None:
        """Drop the replaced version (after a commit that stands)."""
        if self._aside is not None:
            _remove(self._aside)
            self._aside = None

    def discard(self) -> None:
        """Drop the staged version (before a commit)."""
        if not self.committed:
            _remove(self.staging)


@contextlib.contextmanager
def replacing(target: Path, *, folder: bool = True) -> Iterator[Path]:
    """Stage a new version of `target`: yield the staging path, then swap it in when the block
    succeeds, or drop it when the block fails. Dead runs' leftovers beside `target` are swept
    first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep(target.parent, target.name)
    swap = Swap(target, folder=folder)
    try:
        yield swap.staging
        swap.commit()
    except BaseException:
        swap.discard()
        raise
    swap.finish()


@contextlib.contextmanager
def scratch(beside: Path) -> Iterator[Path]:
    """A scratch folder beside `beside` (same filesystem, so its files can be renamed in),
    removed when the block ends however it ends."""
    beside = Path(beside)
    beside.parent.mkdir(parents=True, exist_ok=True)
    work = beside.with_name(leftover_name(beside.name, "work"))
    work.mkdir()
    try:
        yield work
    finally:
        _remove(work)


def write_text_atomic(path: Path, text: str) -> None:
    """Write one small file so that readers see the old content or the new, never a part."""
    with replacing(Path(path), folder=False) as staging:
        staging.write_text(text, encoding="utf-8")


def commit_together(swaps: Sequence[Staged]) -> None:
    """Commit `swaps` in order as one unit: if one fails, the ones already committed are
    rolled back (last first) and the error is raised; otherwise all are finished."""
    done: list[Staged] = []
    try:
        for swap in swaps:
            swap.commit()
            done.append(swap)
    except BaseException:
        for swap in reversed(done):
            try:
                swap.rollback()
            except OSError as exc:  # the next run's sweep restores a local swap
                log.error("rolling back %s failed: %s", swap, exc)
        for swap in swaps:
            swap.discard()
        raise
    for swap in swaps:
        swap.finish()


# ---------------------------------------------------------------------------- object stores


class RemoteSwap:
    """One staged replacement of the folder `target` on an object store, which has no folder
    rename: `write()` puts every file under a staging prefix beside it; `commit()` copies the
    files it replaces aside (so that `rollback()` can put them back), then copies each staged
    file over, deletes the replaced files the new version lacks, and writes `last` (the file
    that says the folder is complete: a manifest, the extract report) last.

    `files` maps relative paths to their content, bytes or a local file. `managed()` lists the
    target's files this swap may replace or delete (default: all of them; a week of the shared
    folder keeps files no publish wrote)."""

    def __init__(
        self,
        fs: fsspec.AbstractFileSystem,
        target: str,
        files: Mapping[str, bytes | Path],
        *,
        last: str | None = None,
        managed: Callable[[], set[str]] | None = None,
    ) -> None:
        self.fs = fs
        self.target = target.rstrip("/")
        self.files = files
        self.last = last
        self._managed = managed or (lambda: remote_files(fs, self.target))
        parent, name = self.target.rsplit("/", 1)
        self.staging = f"{parent}/{leftover_name(name, 'staging')}"
        self.aside = f"{parent}/{leftover_name(name, 'old')}"
        self._previous: set[str] = set()
        self.committed = False

    def write(self) -> None:
        """Stage every file (dropping the stage if an upload fails)."""
        try:
            write_files(self.fs, self.staging, self.files, last=self.last)
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        fs = self.fs
        self._previous = self._managed()
        for path in sorted(self._previous):
            if fs.exists(f"{self.target}/{path}"):
                _copy_remote(fs, f"{self.target}/{path}", f"{self.aside}/{path}")
        self.committed = True
        stale = self._previous - set(self.files)
        for path in sorted(p for p in self.files if p != self.last):
            _copy_remote(fs, f"{self.staging}/{path}", f"{self.target}/{path}")
        for path in sorted(stale):
            if fs.exists(f"{self.target}/{path}"):
                fs.rm(f"{self.target}/{path}")
        if self.last is not None and self.last in self.files:
            _copy_remote(fs, f"{self.staging}/{self.last}", f"{self.target}/{self.last}")
        fs.rm(self.staging, recursive=True)

    def rollback(self) -> None:
        if not self.committed:
            self.discard()
            return
        fs = self.fs
        for path in sorted(set(self.files) - self._previous):
            full = f"{self.target}/{path}"
            if fs.exists(full):
                fs.rm(full)
        for path in sorted(self._previous, key=lambda p: p == self.last):
            saved = f"{self.aside}/{path}"
            if fs.exists(saved):
                _copy_remote(fs, saved, f"{self.target}/{path}")
        self.finish()
        self.committed = False

    def finish(self) -> None:
        if self.fs.exists(self.aside):
            self.fs.rm(self.aside, recursive=True)

    def discard(self) -> None:
        if self.fs.exists(self.staging):
            self.fs.rm(self.staging, recursive=True)


def remote_files(fs: fsspec.AbstractFileSystem, folder: str) -> set[str]:
    """The files under `folder` (relative paths), none when it does not exist."""
    folder = folder.rstrip("/")
    if not fs.exists(folder):
        return set()
    return {full[len(folder) :].lstrip("/") for full in fs.find(folder)}


def write_files(
    fs: fsspec.AbstractFileSystem,
    base: str,
    files: Mapping[str, bytes | Path],
    *,
    last: str | None = None,
) -> None:
    """Write `files` (relative path -> bytes or a local file) under `base`, `last` last."""
    for path in sorted(files, key=lambda p: p == last):
        full = f"{base.rstrip('/')}/{path}"
        fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)
        content = files[path]
        if isinstance(content, Path):
            fs.put_file(str(content), full)
        else:
            fs.pipe_file(full, content)


def sweep_remote(fs: fsspec.AbstractFileSystem, root: str) -> list[str]:
    """`sweep` for a folder on an object store: a dead run's staging goes, a set-aside old
    version whose target is missing goes back."""
    if not fs.exists(root):
        return []
    handled = []
    for entry in sorted(fs.ls(root, detail=False)):
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        item = parse_leftover(Path(name))
        if item is None or item.live:
            continue
        target = f"{root.rstrip('/')}/{item.target}"
        if item.kind == "old" and not fs.exists(target):
            # File by file: s3fs's recursive mv also tries to copy the folder's own key.
            for path in sorted(remote_files(fs, entry)):
                _copy_remote(fs, f"{entry.rstrip('/')}/{path}", f"{target}/{path}")
        fs.rm(entry, recursive=True)
        handled.append(entry)
    if handled:
        log.warning("swept %d leftover(s) of runs that died in %s", len(handled), root)
    return handled


def _copy_remote(fs: fsspec.AbstractFileSystem, source: str, dest: str) -> None:
    fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
    fs.copy(source, dest)


# ---------------------------------------------------------------------------- temp folders


def owned_temp_dir(prefix: str) -> Path:
    """A new folder in the system temp folder named `<prefix><host>-<pid>-<random>`, so that
    `sweep_temp_dirs` can tell when its process is gone."""
    owner = ProcessOwner.current()
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{owner.host}-{owner.pid}-"))


def sweep_temp_dirs(prefix: str) -> list[Path]:
    """Remove this host's `<prefix>...` temp folders whose process is gone (and any without an
    owner in the name that are a day old)."""
    root = Path(tempfile.gettempdir())
    owned = re.compile(rf"^{re.escape(prefix)}(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-")
    removed = []
    host = this_host()
    for path in sorted(root.glob(f"{prefix}*")):
        if not path.is_dir():
            continue
        match = owned.match(path.name)
        if match:
            owner = ProcessOwner(match["host"], int(match["pid"]))
            if owner.host != host or owner.is_current or owner.is_running():
                continue
        elif time.time() - _mtime(path) < _UNOWNED_TEMP_MAX_AGE_SECONDS:
            continue
        _remove(path)
        removed.append(path)
    if removed:
        log.warning(
            "removed %d temp folder(s) of processes that died: %s",
            len(removed),
            ", ".join(p.name for p in removed),
        )
    return removed


# ---------------------------------------------------------------------------- internals


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _keep_copy(path: Path, aside: Path) -> None:
    """`aside` holds the content of `path` without moving it: a hard link, else a copy."""
    try:
        os.link(path, aside)
    except OSError:
        shutil.copy2(path, aside)
