"""The Content-Security-Policy of the quality pages a run publishes, as a `<meta>` tag.

Managers open these pages from the shared folder, and some quote CRM text (the values a check
found unexpected). Every such value is escaped (`gx_pages`, Jinja autoescape); the policy is
the second line of defence: a page that does not need inline script forbids it, so markup
that ever slipped through escaping could not run.

- salesprep's own pages (quality index, dbt build report): no script at all (`NO_SCRIPT`).
- Great Expectations validation and suite pages: the scripts GX loads from its CDNs, no
  inline script and no inline event handlers (`gx_policy`); their results are static HTML, only
  GX's optional helpers (a walkthrough modal, show/hide buttons) stop working.
- GX's index page of a stage builds its table with inline script from our own check and run
  names (no CRM text): those scripts are allowed by hash, nothing else inline.
- The static dbt docs page is one inline application over the dbt manifest (models and
  columns, no CRM data): it needs inline script, so its policy only forbids plugins, `<base>`
  and forms (`DBT_DOCS`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

_COMMON = "base-uri 'none'; form-action 'none'; object-src 'none'"
NO_SCRIPT = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    f"script-src 'none'; {_COMMON}"
)
DBT_DOCS = _COMMON
_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.IGNORECASE | re.S)
_META = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>\s*', re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def meta_tag(policy: str) -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def gx_policy(page: str, *, allow_inline: bool) -> str:
    """The policy of a Great Expectations page: its CDN scripts' origins, and with
    `allow_inline` the hashes of the inline scripts it has now."""
    origins = sorted(
        {
            f"{parts.scheme}://{parts.netloc}"
            for parts in (urlsplit(src) for src in _SCRIPT_SRC.findall(page))
            if parts.scheme in ("https", "http") and parts.netloc
        }
    )
    sources = [*origins]
    if allow_inline:
        for body in _INLINE_SCRIPT.findall(page):
            digest = hashlib.sha256(body.encode("utf-8")).digest()
            sources.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    script_src = " ".join(sources) or "'none'"
    return (
        "default-src 'none'; style-src 'self' 'unsafe-inline' https:; img-src 'self' data: https:; "
        f"font-src 'self' data: https:; script-src {script_src}; {_COMMON}"
    )


def with_policy(page: str, policy: str) -> str:
    """`page` with its policy meta tag first in `<head>` (replacing one it had)."""
    page = _META.sub("", page)
    head = _HEAD.search(page)
    if head is None:
        return meta_tag(policy) + "\n" + page
    return page[: head.end()] + "\n" + meta_tag(policy) + page[head.end() :]
