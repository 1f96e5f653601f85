"""Publishing a rendered week of packets to the shared folder (any fsspec URL): index pages, a
manifest with content hashes, and an atomic per-week swap through a staging folder. The names
and slugs of the week's files are `layout`'s."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from salesprep.packets.layout import (
    DIGEST_HTML,
    INDEX,
    MANIFEST,
    QUALITY_INDEX,
    TEAMS_JSON,
    SlugError,
    pair_slugs,
)
from salesprep.packets.model import SCHEMA_VERSION
from salesprep.packets.render import (
    IndexManager,
    IndexPacket,
    RenderedPacket,
    read_rendered,
    read_unpaired,
    render_manager_index,
    render_week_index,
)
from salesprep.packets.team import TeamDataError, WeekTeams, parse_teams
from salesprep.runs.atomic_swap import (
    RemoteSwap,
    Swap,
    commit_together,
    sweep,
    sweep_remote,
    write_files,
)
from salesprep.shared_folder import join
from salesprep.weeks import Week

log = logging.getLogger(__name__)

_EXTRA_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class PublishError(OSError):
    """Packets that could not be published; the message names the week and the problem."""


@dataclass(frozen=True)
class PublishedPacket:
    """One packet in the manifest: who it is for, where its files are, and their hashes."""

    manager_id: str
    manager_name: str
    manager_slug: str
    rep_id: str
    rep_name: str
    rep_slug: str
    paths: dict[str, str]
    sha256: dict[str, str]


@dataclass(frozen=True)
class PublishedFile:
    """A non-packet file of the week (index pages, extra files) with its hash."""

    path: str
    sha256: str


@dataclass(frozen=True)
class WeekManifest:
    """What a week's publish wrote; `manifest.json` in the week folder holds the same."""

    week: str
    url: str
    packets: list[PublishedPacket]
    files: list[PublishedFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        week = Week.parse(self.week)
        return {
            "schema_version": SCHEMA_VERSION,
            "week": self.week,
            "week_start": week.start_date.isoformat(),
            "week_end": week.end_date.isoformat(),
            "packets": [asdict(p) for p in self.packets],
            "files": [asdict(f) for f in self.files],
        }

    def to_json(self) -> str:
        """Deterministic: fixed order, no wall-clock values (the URL is not part of it)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    def summary(self) -> dict[str, Any]:
        """Small and JSON-able, for XCom and the CLI."""
        return {
            "week": self.week,
            "url": self.url,
            "packets": len(self.packets),
            "index": f"{self.url}/{INDEX}",
            "manifest": f"{self.url}/{MANIFEST}",
        }

    def packet(self, rep_id: str) -> PublishedPacket:
        for packet in self.packets:
            if packet.rep_id == rep_id:
                return packet
        raise KeyError(f"manifest of {self.week} has no packet for rep {rep_id}")


def publish_week(
    rendered: Sequence[RenderedPacket],
    shared_folder_url: str,
    week: Week,
    extra_files: Mapping[str, bytes | str] | None = None,
) -> WeekManifest:
    """Write `<root>/<week>/<manager-slug>/<rep-slug>.{html,md,json}`, the week index, one
    index per manager and `manifest.json`, replacing the week as a whole. Other weeks are
    untouched; files in the week folder that an earlier publish did not write (listed in its
    manifest) are kept. `extra_files` (relative path → content, e.g. `learnings.html`) are
    published in the same swap."""
    staged = stage_week(rendered, shared_folder_url, week, extra_files)
    try:
        commit_together([staged])
    except OSError as exc:
        raise PublishError(
            f"publishing {len(rendered)} packets for {week.label} to {staged.manifest.url} "
            f"failed: {exc}"
        ) from exc
    return staged.manifest


def stage_week(
    rendered: Sequence[RenderedPacket],
    shared_folder_url: str,
    week: Week,
    extra_files: Mapping[str, bytes | str] | None = None,
    unpaired: Sequence[Mapping[str, Any]] = (),
) -> StagedWeek:
    """Write every file of the week into a staging folder beside the week's folder in the shared
    folder, ready to swap in (`commit()`, see `publish_week`). What dead runs left in the shared
    folder is swept first. `unpaired` lists the users who got no packet, for the week index."""
    files, manifest = _week_files(rendered, week, extra_files or {}, unpaired)
    try:
        fs, root = fsspec.core.url_to_fs(shared_folder_url)
    except (ValueError, ImportError) as exc:
        raise PublishError(
            f"shared folder {shared_folder_url!r} for {week.label} is not a usable fsspec URL: "
            f"{exc}"
        ) from exc
    root = root.rstrip("/") or "/"
    url = join(shared_folder_url, week.label)
    manifest = WeekManifest(
        week=manifest.week, url=url, packets=manifest.packets, files=manifest.files
    )
    target = join(root, week.label)
    try:
        if isinstance(fs, LocalFileSystem):
            fs.makedirs(root, exist_ok=True)
            sweep(Path(root))
            swap = Swap(Path(target))
            staged: StagedWeek = _LocalWeek(manifest, swap)
            try:
                write_files(fs, str(swap.staging), files, last=MANIFEST)
                _carry_foreign(fs, target, str(swap.staging), files)
            except BaseException:
                swap.discard()
                raise
        else:
            sweep_remote(fs, root)
            staged = _RemoteWeek(manifest, fs, target, files)
            staged.write()
    except OSError as exc:
        if isinstance(exc, PublishError):
            raise
        raise PublishError(
            f"staging {len(rendered)} packets for {week.label} in {url} failed: {exc}"
        ) from exc
    return staged


def publish_rendered_week(rendered_dir: Path, shared_folder_url: str, week: Week) -> WeekManifest:
    """Publish what render_week wrote into `rendered_dir` (packets, plus `extra/` files such
    as the learnings digest) as `week` of the shared folder."""
    staged = stage_rendered_week(rendered_dir, shared_folder_url, week)
    commit_together([staged])
    return staged.manifest


def stage_rendered_week(rendered_dir: Path, shared_folder_url: str, week: Week) -> StagedWeek:
    """Stage what render_week wrote into `rendered_dir` as `week` of the shared folder."""
    packets, extra = read_rendered(rendered_dir)
    return stage_week(
        packets, shared_folder_url, week, extra_files=extra, unpaired=read_unpaired(rendered_dir)
    )


class StagedWeek(ABC):
    """A week of packets staged in the shared folder (see `atomic_swap.Staged`)."""

    manifest: WeekManifest

    def log_published(self) -> None:
        log.info(
            "published %d packets for %s to %s",
            len(self.manifest.packets),
            self.manifest.week,
            self.manifest.url,
        )

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def finish(self) -> None: ...

    @abstractmethod
    def discard(self) -> None: ...


class _LocalWeek(StagedWeek):
    """On a local (or mounted) shared folder: one `atomic_swap.Swap` of the week folder."""

    def __init__(self, manifest: WeekManifest, swap: Swap) -> None:
        self.manifest = manifest
        self.swap = swap

    def commit(self) -> None:
        self.swap.commit()
        self.log_published()

    def rollback(self) -> None:
        self.swap.rollback()
        log.warning("put the previous %s back in %s", self.manifest.week, self.manifest.url)

    def finish(self) -> None:
        self.swap.finish()

    def discard(self) -> None:
        self.swap.discard()


class _RemoteWeek(StagedWeek):
    """On an object store, which has no folder rename: one `atomic_swap.RemoteSwap` of the
    week folder, the manifest last; the files it may replace are the ones the previous
    manifest lists, so files that pairs wrote back stay."""

    def __init__(
        self,
        manifest: WeekManifest,
        fs: fsspec.AbstractFileSystem,
        target: str,
        files: Mapping[str, bytes],
    ) -> None:
        self.manifest = manifest
        self.swap = RemoteSwap(
            fs, target, files, last=MANIFEST, managed=lambda: _managed_paths(fs, target)
        )

    def write(self) -> None:
        self.swap.write()

    def commit(self) -> None:
        self.swap.commit()
        self.log_published()

    def rollback(self) -> None:
        self.swap.rollback()

    def finish(self) -> None:
        self.swap.finish()

    def discard(self) -> None:
        self.swap.discard()


def _week_files(
    rendered: Sequence[RenderedPacket],
    week: Week,
    extra: Mapping[str, bytes | str],
    unpaired: Sequence[Mapping[str, Any]] = (),
) -> tuple[dict[str, bytes], WeekManifest]:
    """Every file of the week by relative path, the manifest last, and the manifest itself."""
    seen: set[tuple[str, str]] = set()
    for packet in rendered:
        if packet.week != week.label:
            raise PublishError(
                f"packet of rep {packet.rep_id} is for {packet.week}, not {week.label}"
            )
        key = (packet.manager_id, packet.rep_id)
        if key in seen:
            raise PublishError(f"two packets for manager {key[0]} and rep {key[1]} in {week.label}")
        seen.add(key)

    try:
        slugs = pair_slugs((p.manager_id, p.manager_name, p.rep_id, p.rep_name) for p in rendered)
    except SlugError as exc:
        raise PublishError(f"{exc} in {week.label}") from exc
    manager_slugs = {m: m_slug for (m, _), (m_slug, _) in slugs.items()}
    teams = _week_teams(extra, week)
    by_manager: dict[str, list[RenderedPacket]] = {}
    for packet in rendered:
        by_manager.setdefault(packet.manager_id, []).append(packet)

    files: dict[str, bytes] = {}
    published: list[PublishedPacket] = []
    index_managers: list[IndexManager] = []
    for manager_id in sorted(by_manager, key=lambda m: (manager_slugs[m], m)):
        packets = by_manager[manager_id]
        m_slug = manager_slugs[manager_id]
        rep_slugs = {p.rep_id: slugs[(manager_id, p.rep_id)][1] for p in packets}
        index_packets = []
        for packet in sorted(packets, key=lambda p: (rep_slugs[p.rep_id], p.rep_id)):
            r_slug = rep_slugs[packet.rep_id]
            paths, hashes = {}, {}
            for kind, text in (
                ("html", packet.html),
                ("md", packet.markdown),
                ("json", packet.json),
                ("ics", packet.ics),
            ):
                path = f"{m_slug}/{r_slug}.{kind}"
                content = text.encode("utf-8")
                files[path] = content
                paths[kind] = path
                hashes[kind] = _sha256(content)
            published.append(
                PublishedPacket(
                    manager_id=manager_id,
                    manager_name=packet.manager_name,
                    manager_slug=m_slug,
                    rep_id=packet.rep_id,
                    rep_name=packet.rep_name,
                    rep_slug=r_slug,
                    paths=paths,
                    sha256=hashes,
                )
            )
            index_packets.append(
                IndexPacket(
                    rep_id=packet.rep_id,
                    rep_name=packet.rep_name,
                    slug=r_slug,
                    minutes=packet.data["agenda"]["minutes"],
                    stuck_deals=sum(1 for d in packet.data["deals"] if d["is_stuck"]),
                )
            )
        manager = IndexManager(
            manager_id=manager_id,
            manager_name=packets[0].manager_name,
            slug=m_slug,
            packets=index_packets,
        )
        index_managers.append(manager)
        files[f"{m_slug}/{INDEX}"] = render_manager_index(week.label, manager, teams).encode(
            "utf-8"
        )
    digest = DIGEST_HTML if DIGEST_HTML in extra else None
    quality = QUALITY_INDEX if QUALITY_INDEX in extra else None
    files[INDEX] = render_week_index(
        week.label, index_managers, digest=digest, quality=quality, unpaired=unpaired
    ).encode("utf-8")

    for path, content in sorted(extra.items()):
        if not _EXTRA_PATH.match(path) or path in files or path == MANIFEST:
            raise PublishError(
                f"extra file {path!r} for {week.label} must be a relative path of "
                "[A-Za-z0-9._-] parts that no packet, index or the manifest uses"
            )
        files[path] = content.encode("utf-8") if isinstance(content, str) else bytes(content)

    packet_paths = {path for p in published for path in p.paths.values()}
    extras = [
        PublishedFile(path=path, sha256=_sha256(content))
        for path, content in sorted(files.items())
        if path not in packet_paths
    ]
    manifest = WeekManifest(week=week.label, url="", packets=published, files=extras)
    files[MANIFEST] = manifest.to_json().encode("utf-8")
    return files, manifest


def _week_teams(extra: Mapping[str, bytes | str], week: Week) -> WeekTeams | None:
    """The managers' team data among the extra files (render_week writes it), if any."""
    if TEAMS_JSON not in extra:
        return None
    try:
        teams = parse_teams(extra[TEAMS_JSON])
    except TeamDataError as exc:
        raise PublishError(f"{exc} (publishing {week.label})") from exc
    if teams.week != week.label:
        raise PublishError(f"{TEAMS_JSON} is for {teams.week}, not {week.label}")
    return teams


def _carry_foreign(
    fs: fsspec.AbstractFileSystem, target: str, staging: str, files: Mapping[str, bytes]
) -> None:
    """Copy files of the current week folder that no earlier publish wrote (e.g. learnings
    pairs wrote back) into the staging folder, so the swap does not lose them."""
    if not fs.exists(target):
        return
    managed = _managed_paths(fs, target)
    for full in sorted(fs.find(target)):
        path = full[len(target) :].lstrip("/")
        if path in managed or path in files:
            continue
        dest = join(staging, path)
        fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
        fs.copy(full, dest)


def _managed_paths(fs: fsspec.AbstractFileSystem, target: str) -> set[str]:
    """Paths the previous publish of the week wrote, from its manifest (none without one)."""
    path = join(target, MANIFEST)
    if not fs.exists(path):
        return set()
    try:
        data = json.loads(fs.cat_file(path))
        managed = {MANIFEST}
        for packet in data.get("packets", []):
            managed.update(packet["paths"].values())
        managed.update(f["path"] for f in data.get("files", []))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PublishError(f"the existing manifest {path} cannot be read: {exc}") from exc
    return managed


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
