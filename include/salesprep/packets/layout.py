"""Where a week's packets are: the names in the rendered folder that render_week writes and
publish reads, the names in a published week of the shared folder, and the slugs that name
managers and reps in those paths (safe, stable and distinct)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from salesprep.config import PROJECT_ROOT
from salesprep.learnings.load import LEARNINGS_DIR

# The rendered folder of a week: packets/NNNNN.{html,md,json}, extra/<files published beside
# them>, and who got no packet.
PACKETS_DIR = "packets"
EXTRA_DIR = "extra"
UNPAIRED_FILE = "unpaired.json"
# A packet's forms: the RenderedPacket attribute and the file extension.
PACKET_FORMS = (("html", "html"), ("markdown", "md"), ("json", "json"))

# A published week, `<shared folder>/<week>/`: `<manager-slug>/<rep-slug>.{html,md,json}`, one
# index per manager, and these.
MANIFEST = "manifest.json"
INDEX = "index.html"
DIGEST_HTML = "learnings.html"
DIGEST_MD = "learnings.md"
# The managers' team pages as data (packets/team.py), from which publish renders each
# `<manager-slug>/index.html`; extra/teams.json in the rendered folder.
TEAMS_JSON = "teams.json"
# The metric dictionary travels with every week's packets, which link to it.
METRICS_MD = "metrics.md"
METRICS_SOURCE = PROJECT_ROOT / "docs" / "metrics.md"
# The week's quality report (Great Expectations Data Docs, dbt results), staged with the packets.
QUALITY_INDEX = "quality/index.html"

SLUG_ID_CHARS = 8
_SLUG_NAME_CHARS = 48
# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i"}
)  # fmt: skip


class SlugError(ValueError):
    """People who cannot be given distinct file names; the message names their ids."""


def slugify(name: str, id: str, id_chars: int = SLUG_ID_CHARS) -> str:
    """A file-name-safe slug: lowercase ASCII words of `name` plus the last `id_chars`
    characters of `id`, so two people with one name get two slugs. Only `[a-z0-9-]`: no
    dots, slashes or traversal. Stable for the same name and id."""
    ident = re.sub(r"[^a-z0-9]", "", (id or "").lower())
    if not ident:
        raise SlugError(f"cannot make a slug for {name!r}: the id {id!r} has no letters or digits")
    ascii_name = (
        unicodedata.normalize("NFKD", (name or "").translate(_TRANSLITERATE))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    words = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    words = words[:_SLUG_NAME_CHARS].strip("-")
    suffix = ident[-id_chars:]
    return f"{words}-{suffix}" if words else suffix


def pair_slugs(
    pairs: Iterable[tuple[str, str, str, str]],
) -> dict[tuple[str, str], tuple[str, str]]:
    """(manager id, rep id) → (manager slug, rep slug) for the pairs of one week, given as
    (manager id, manager name, rep id, rep name): the folder and file names a publish of
    exactly these pairs uses (the packet context puts the learnings path in each packet with
    it)."""
    pairs = list(pairs)
    manager_slugs = _unique_slugs({(m_id, m_name) for m_id, m_name, _, _ in pairs})
    reps_by_manager: dict[str, set[tuple[str, str]]] = {}
    for m_id, _, r_id, r_name in pairs:
        reps_by_manager.setdefault(m_id, set()).add((r_id, r_name))
    result = {}
    for m_id, reps in reps_by_manager.items():
        rep_slugs = _unique_slugs(reps)
        for r_id, _ in reps:
            result[(m_id, r_id)] = (manager_slugs[m_id], rep_slugs[r_id])
    return result


def learnings_file(week: str, manager_slug: str, rep_slug: str) -> str:
    """Where a pair records the learnings of its 1:1 on the packet of `week`, relative to
    the shared folder root (salesprep.learnings reads it back the week after)."""
    return f"{LEARNINGS_DIR}/{week}/{manager_slug}/{rep_slug}.md"


def _unique_slugs(people: set[tuple[str, str]]) -> dict[str, str]:
    """id → slug, lengthening the id part where two people would share a slug."""
    slugs: dict[str, str] = {}
    pending = sorted(people)
    chars = SLUG_ID_CHARS
    while pending:
        candidates = {pid: slugify(name, pid, chars) for pid, name in pending}
        counts: dict[str, int] = {}
        for slug in candidates.values():
            counts[slug] = counts.get(slug, 0) + 1
        taken = set(slugs.values())
        retry = []
        for pid, name in pending:
            slug = candidates[pid]
            if counts[slug] == 1 and slug not in taken:
                slugs[pid] = slug
            else:
                retry.append((pid, name))
        if retry and chars > 64:
            raise SlugError(
                "cannot give distinct file names to ids " + ", ".join(pid for pid, _ in retry)
            )
        pending, chars = retry, chars + 4
    return slugs
