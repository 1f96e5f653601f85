"""Publishing a week: safe unique slugs, the folder layout and manifest of DESIGN.md, hashes
that match the bytes, byte-identical re-runs, other weeks and foreign files untouched."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import fsspec
import pytest

from salesprep.packets import publish_rendered_week, read_rendered, write_rendered
from salesprep.packets.layout import slugify
from salesprep.packets.publish import PublishError, publish_week
from salesprep.weeks import Week

from .marts_fixture import HOSTILE, M1, R1, R3, WEEK


@pytest.mark.parametrize(
    ("name", "id_", "expected"),
    [
        ("Alex Rep", "005000000000R01AAC", "alex-rep-00r01aac"),
        ("Ølaf Ñúñez", "005000000000M02AAB", "olaf-nunez-00m02aab"),
        ("../../etc/passwd", "005X", "etc-passwd-005x"),
        # Any script is transliterated (anyascii); symbols and emoji are dropped, not named.
        ("Анна Смирнова", "005000000000R03AAE", "anna-smirnova-00r03aae"),
        ("Ελένη Παπαδοπούλου", "005ABC", "eleni-papadopoyloy-005abc"),
        ("山田 太郎", "005ABC", "shantian-tailang-005abc"),
        ("שלום 🚀", "005ABC", "slvm-005abc"),
        ("🚀 ✨", "005ABC", "005abc"),
        ("Conor O'Brien", "005ABC", "conor-o-brien-005abc"),
        ("", "005ABC", "005abc"),
    ],
)
def test_slugify(name, id_, expected):
    assert slugify(name, id_) == expected


def test_slugs_are_safe_for_any_name():
    for name in (HOSTILE, "..", ".", "/", "a/../../b", "CON", "x" * 500, "\x00evil", "\u202e"):
        slug = slugify(name, "005000000000R02AAD")
        assert slug and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-"), slug
        assert ".." not in slug and "/" not in slug and not slug.startswith("-")
        assert len(slug) <= 60


def test_slugify_needs_an_id():
    with pytest.raises(ValueError, match="id"):
        slugify("Alex", "")


def _read_tree(fs: fsspec.AbstractFileSystem, root: str) -> dict[str, bytes]:
    return {p[len(root) :].lstrip("/"): fs.cat_file(p) for p in sorted(fs.find(root))}


def _check_manifest(fs: fsspec.AbstractFileSystem, week_dir: str, count: int) -> dict:
    manifest = json.loads(fs.cat_file(f"{week_dir}/manifest.json"))
    assert manifest["week"] == WEEK.label
    assert len(manifest["packets"]) == count
    for packet in manifest["packets"]:
        assert {"manager_id", "rep_id", "paths", "sha256", "manager_slug", "rep_slug"} <= set(
            packet
        )
        for kind in ("html", "md", "json"):
            content = fs.cat_file(f"{week_dir}/{packet['paths'][kind]}")
            assert hashlib.sha256(content).hexdigest() == packet["sha256"][kind]
        payload = json.loads(fs.cat_file(f"{week_dir}/{packet['paths']['json']}"))
        assert payload["rep"]["id"] == packet["rep_id"]
        assert payload["manager"]["id"] == packet["manager_id"]
    for item in manifest["files"]:
        content = fs.cat_file(f"{week_dir}/{item['path']}")
        assert hashlib.sha256(content).hexdigest() == item["sha256"]
    return manifest


def test_publish_to_a_local_folder(tmp_path: Path, rendered):
    root = tmp_path / "shared"
    result = publish_week(rendered, str(root), WEEK)
    week_dir = root / WEEK.label
    fs = fsspec.filesystem("file")
    manifest = _check_manifest(fs, str(week_dir), len(rendered))
    assert (week_dir / "index.html").is_file()
    alex = result.packet(R1)
    assert alex.paths["html"] == f"{alex.manager_slug}/{alex.rep_slug}.html"
    assert (week_dir / alex.manager_slug / "index.html").is_file()
    # Two reps named "Alex Rep" get two files.
    assert result.packet(R1).rep_slug != result.packet(R3).rep_slug
    assert result.packet(R1).rep_slug.startswith("alex-rep-")
    # Every file lies inside the week folder, whatever the names were.
    for path in week_dir.rglob("*"):
        assert path.resolve().is_relative_to(week_dir.resolve())
    assert {f["path"] for f in manifest["files"]} >= {"index.html"}
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no staging left
    index = (week_dir / "index.html").read_text(encoding="utf-8")
    assert f'href="{alex.paths["html"]}"' in index
    assert "<script" not in index and "&lt;script&gt;" in index
    assert result.summary()["packets"] == len(rendered)


def test_republish_gives_identical_bytes_and_leaves_other_weeks(tmp_path: Path, rendered):
    root = tmp_path / "shared"
    other = root / "2026-W09"
    other.mkdir(parents=True)
    (other / "index.html").write_text("last week", encoding="utf-8")
    publish_week(rendered, str(root), WEEK)
    fs = fsspec.filesystem("file")
    first = _read_tree(fs, str(root / WEEK.label))
    publish_week(rendered, f"file://{root}", WEEK)
    assert _read_tree(fs, str(root / WEEK.label)) == first
    assert (other / "index.html").read_text(encoding="utf-8") == "last week"


def test_republish_drops_stale_packets_and_keeps_foreign_files(tmp_path: Path, rendered):
    root = tmp_path / "shared"
    first = publish_week(rendered, str(root), WEEK)
    week_dir = root / WEEK.label
    (week_dir / "notes-from-sales-ops.txt").write_text("keep me", encoding="utf-8")
    gone = first.packet(R3)
    publish_week([r for r in rendered if r.rep_id != R3], str(root), WEEK)
    assert not (week_dir / gone.paths["html"]).exists()
    assert (week_dir / "notes-from-sales-ops.txt").read_text(encoding="utf-8") == "keep me"
    assert (week_dir / first.packet(R1).paths["md"]).exists()


def test_publish_to_memory_filesystem(rendered):
    url = f"memory://salesprep-{uuid.uuid4().hex}/shared"
    result = publish_week(rendered, url, WEEK, extra_files={"learnings.html": "<p>digest</p>"})
    fs, root = fsspec.core.url_to_fs(url)
    week_dir = f"{root.rstrip('/')}/{WEEK.label}"
    manifest = _check_manifest(fs, week_dir, len(rendered))
    assert "learnings.html" in {f["path"] for f in manifest["files"]}
    first = _read_tree(fs, week_dir)
    publish_week(rendered, url, WEEK, extra_files={"learnings.html": "<p>digest</p>"})
    assert _read_tree(fs, week_dir) == first
    assert not [p for p in fs.ls(root, detail=False) if "/." in p]  # staging removed
    assert result.url == f"{url}/{WEEK.label}"
    # Stale packets go on object stores too.
    publish_week(rendered[:1], url, WEEK)
    assert len(json.loads(fs.cat_file(f"{week_dir}/manifest.json"))["packets"]) == 1
    assert len(fs.glob(f"{week_dir}/*/*.json")) == 1


def test_a_week_committed_on_an_object_store_can_be_rolled_back(rendered):
    """On an object store the week is copied over file by file: a rollback (the warehouse
    swap after it failed) puts back exactly the files and bytes of the previous publish."""
    from salesprep.packets.publish import stage_week

    url = f"memory://salesprep-{uuid.uuid4().hex}/shared"
    publish_week(rendered, url, WEEK, extra_files={"learnings.html": "<p>old digest</p>"})
    fs, root = fsspec.core.url_to_fs(url)
    week_dir = f"{root.rstrip('/')}/{WEEK.label}"
    before = _read_tree(fs, week_dir)
    staged = stage_week(rendered[:1], url, WEEK, extra_files={"new.html": "<p>new</p>"})
    staged.commit()
    assert _read_tree(fs, week_dir) != before
    staged.rollback()
    assert _read_tree(fs, week_dir) == before
    assert not [p for p in fs.ls(root, detail=False) if "/." in p]  # nothing staged or aside


def test_publish_refuses_mixed_weeks_and_duplicates(tmp_path: Path, rendered):
    with pytest.raises(PublishError, match="not 2026-W11"):
        publish_week(rendered, str(tmp_path), Week.parse("2026-W11"))
    with pytest.raises(PublishError, match="two packets"):
        publish_week([rendered[0], rendered[0]], str(tmp_path), WEEK)
    with pytest.raises(PublishError, match="extra file"):
        publish_week(rendered, str(tmp_path), WEEK, extra_files={"../escape.html": "x"})
    assert not (tmp_path / WEEK.label).exists()


def test_interrupted_swap_is_recovered(tmp_path: Path, rendered):
    root = tmp_path / "shared"
    publish_week(rendered, str(root), WEEK)
    # Simulate a crash between the two renames: the week is set aside, nothing in place.
    (root / WEEK.label).rename(root / f".old-{WEEK.label}-deadbeef")
    (root / f".staging-{WEEK.label}-cafe").mkdir()
    publish_week(rendered, str(root), WEEK)
    assert sorted(p.name for p in root.iterdir()) == [WEEK.label]


def test_rendered_folder_round_trip_and_publish(tmp_path: Path, rendered):
    out = tmp_path / "rendered"
    write_rendered(rendered, out)
    write_rendered(rendered, out)  # a re-run replaces, never appends
    (out / "extra").mkdir()
    (out / "extra" / "learnings.html").write_text("<p>digest</p>", encoding="utf-8")
    packets, extra = read_rendered(out)
    assert [p.json for p in packets] == [r.json for r in rendered]
    assert extra == {"learnings.html": b"<p>digest</p>"}
    manifest = publish_rendered_week(out, str(tmp_path / "shared"), WEEK)
    assert len(manifest.packets) == len(rendered)
    assert (tmp_path / "shared" / WEEK.label / "learnings.html").is_file()
    assert manifest.packet(R1).manager_id == M1


def test_packets_name_the_learnings_file_their_publish_creates_room_for(tmp_path: Path, rendered):
    """The path a packet asks the pair to write is the one salesprep.learnings maps back to
    the pair through the manifest (same slugs)."""
    manifest = publish_week(rendered, str(tmp_path / "shared"), WEEK)
    for packet in rendered:
        published = manifest.packet(packet.rep_id)
        expected = f"learnings/{WEEK.label}/{published.manager_slug}/{published.rep_slug}.md"
        assert packet.data["learnings_file"] == expected
        assert expected in packet.html and expected in packet.markdown


def test_week_index_links_the_digest_only_when_published_with_it(tmp_path: Path, rendered):
    root = tmp_path / "shared"
    publish_week(rendered, str(root), WEEK)
    assert "learnings.html" not in (root / WEEK.label / "index.html").read_text(encoding="utf-8")
    publish_week(rendered, str(root), WEEK, extra_files={"learnings.html": "<p>digest</p>"})
    index = (root / WEEK.label / "index.html").read_text(encoding="utf-8")
    assert 'href="learnings.html"' in index


def test_week_index_links_the_quality_report_only_when_published_with_it(tmp_path: Path, rendered):
    root = tmp_path / "shared"
    publish_week(rendered, str(root), WEEK)
    assert "quality/index.html" not in (root / WEEK.label / "index.html").read_text("utf-8")
    publish_week(rendered, str(root), WEEK, extra_files={"quality/index.html": "<p>checks</p>"})
    index = (root / WEEK.label / "index.html").read_text(encoding="utf-8")
    assert 'href="quality/index.html"' in index
