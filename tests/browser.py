"""Headless Chromium for the packet tests, driven by Playwright: check a page at a width for
console errors and horizontal overflow, take a screenshot, and print it to PDF (A4 or Letter).

Dev-only (a dev dependency, not in the salesprep wheel). Playwright runs the system's Chromium
(Debian's `chromium`, `make browser`): `/usr/bin/chromium`, or $SALESPREP_CHROMIUM; it never
downloads a browser of its own. From the checkout:
`.venv/bin/python tests/browser.py check|screenshot|pdf PAGE ...` (`--help`)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM_ENV = "SALESPREP_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Playwright adds --headless, --remote-debugging-pipe and its own defaults; these are the ones
# this machine needs. Without the networking ones Chromium keeps dialling out at start-up, and
# a closed network refuses it; there is no sandbox helper and /dev/shm is small in containers.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
PHONE_WIDTH = 390
DESKTOP_WIDTH = 1280
# Paper (width, height) in inches, and the printable width in CSS px at the packets' 8 mm
# @page margins (96 px per inch).
PAPERS: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}
PRINT_MARGIN_MM = 8
Media = Literal["screen", "print"]

# Reported per page: the document's width, and the elements sticking out past the device
# width (outside the table wrappers, which scroll on their own). Measured against the width
# asked for, not innerWidth: a mobile viewport zooms out to fit a page that is too wide.
_LAYOUT_JS = """
(width) => {
  const doc = document.documentElement;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const scroller = el.parentElement && el.parentElement.closest('.scroll');
    const scrolls = scroller && getComputedStyle(scroller).overflowX !== 'visible';
    if (box.width && box.right > width + 1 && !scrolls) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (typeof el.className === 'string' && el.className ? '.' + el.className : '');
      out.push(name + ' (right ' + Math.round(box.right) + 'px): '
        + (el.textContent || '').trim().slice(0, 60));
    }
  }
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
          height: Math.ceil(doc.scrollHeight), overflowing: out.slice(0, 10)};
}
"""


class BrowserError(RuntimeError):
    """Chromium could not be started or did not answer; the message says which call."""


def chromium_path() -> str | None:
    """The Chromium executable to use, or None when it is not installed."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return DEFAULT_CHROMIUM if os.access(DEFAULT_CHROMIUM, os.X_OK) else None


@dataclass
class PageCheck:
    """What a page did when loaded at one width: errors, and whether it is wider than the
    viewport (a horizontal scroll bar on a phone)."""

    url: str
    width: int
    media: str
    scroll_width: int
    inner_width: int
    height: int
    errors: list[str] = field(default_factory=list)
    overflowing: list[str] = field(default_factory=list)

    @property
    def overflows(self) -> bool:
        return self.scroll_width > self.width or self.inner_width > self.width

    @property
    def ok(self) -> bool:
        return not self.errors and not self.overflows

    def describe(self) -> str:
        lines = [
            f"{self.url} at {self.width}px ({self.media}): document {self.scroll_width}px wide, "
            f"viewport {self.inner_width}px, {len(self.errors)} error(s)"
        ]
        lines += [f"  error: {e}" for e in self.errors]
        lines += [f"  sticks out: {o}" for o in self.overflowing]
        return "\n".join(lines)


def _console_error(message: ConsoleMessage) -> str | None:
    """A console message worth failing a page for, in words; None for the others. Chromium
    reports a resource that failed to load here too, with the resource's URL as location."""
    if message.type not in ("error", "assert"):
        return None
    where = message.location.get("url") or ""
    return f"console.{message.type}: {message.text}" + (f" ({where})" if where else "")


@dataclass
class _Tab:
    """One page of its own browser context, kept for every check with the same viewport and
    media: navigating loads a fresh document (scripts, zoom and layout start over), and opening
    a page per check would start a renderer each time, the slow part."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        text = _console_error(message)
        if text:
            self.errors.append(text)

    def on_page_error(self, exc: PlaywrightError) -> None:
        self.errors.append(f"exception: {exc.name}: {exc.message}")


class Browser:
    """One headless Chromium (the system's), driven by Playwright. While one is open, its thread
    has Playwright's event loop running, so `asyncio.run()` fails there: keep a Browser to the
    tests that use it (a module at most), never the whole session."""

    def __init__(self, executable: str | None = None, timeout: float = 30.0) -> None:
        self.executable = executable or chromium_path()
        if not self.executable:
            raise BrowserError(
                f"Chromium not found at {DEFAULT_CHROMIUM} (or ${CHROMIUM_ENV}): "
                "apt-get install -y chromium"
            )
        self.timeout_ms = timeout * 1000
        self._tabs: dict[tuple[int, int, str], _Tab] = {}
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self.executable,
                args=list(CHROMIUM_FLAGS),
                timeout=self.timeout_ms,
            )
        except PlaywrightError as exc:
            self._playwright.stop()
            raise BrowserError(f"starting Chromium {self.executable} failed: {exc}") from exc

    def _tab(self, width: int, height: int, media: Media) -> _Tab:
        key = (width, height, media)
        if key not in self._tabs:
            mobile = width < 600
            context = self._browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=2 if mobile else 1,
                is_mobile=mobile,
            )
            context.set_default_timeout(self.timeout_ms)
            tab = _Tab(context, context.new_page())
            tab.page.on("console", tab.on_console)
            tab.page.on("pageerror", tab.on_page_error)
            tab.page.emulate_media(media=media)
            self._tabs[key] = tab
        return self._tabs[key]

    @contextmanager
    def page(
        self, url: str, width: int, *, height: int = 900, media: Media = "screen"
    ) -> Iterator[tuple[Page, PageCheck]]:
        """Load `url` at `width` CSS px (phone widths emulate a mobile device); yields the
        Playwright page and the page check. A page that fails is closed, never reused."""
        tab = self._tab(width, height, media)
        tab.errors = []
        try:
            try:
                tab.page.goto(url, wait_until="load")
            except PlaywrightError as exc:
                raise BrowserError(f"loading {url} failed: {exc.message}") from exc
            layout: dict[str, Any] = tab.page.evaluate(_LAYOUT_JS, width)
            check = PageCheck(
                url=url,
                width=width,
                media=media,
                scroll_width=layout["scrollWidth"],
                inner_width=layout["innerWidth"],
                height=layout["height"],
                errors=list(tab.errors),
                overflowing=layout["overflowing"],
            )
            yield tab.page, check
        except BaseException:
            del self._tabs[(width, height, media)]
            tab.context.close()
            raise

    def check(self, url: str, width: int, media: Media = "screen") -> PageCheck:
        """Load `url` at `width` and report errors and overflow."""
        with self.page(url, width, media=media) as (_, check):
            return check

    def screenshot(
        self,
        url: str,
        out: Path,
        width: int,
        max_height: int = 6000,
        selector: str | None = None,
    ) -> PageCheck:
        """A full-page PNG of `url` at `width` (capped at `max_height` CSS px), or of the one
        element `selector` names (its top `max_height` px)."""
        with self.page(url, width) as (page, check):
            if selector is not None:
                box = page.locator(selector).bounding_box()
                if box is None:
                    raise BrowserError(f"{url} has no visible element {selector!r}")
                page.screenshot(
                    path=out,
                    full_page=True,
                    clip={
                        "x": box["x"],
                        "y": box["y"],
                        "width": box["width"],
                        "height": min(box["height"], max_height),
                    },
                )
                return check
            height = min(check.height, max_height)
            page.screenshot(
                path=out,
                full_page=True,
                clip={"x": 0, "y": 0, "width": width, "height": height},
            )
        return check

    def print_pdf(self, url: str, out: Path, paper: str = "A4") -> bytes:
        """`url` printed as the browser prints it (print CSS, @page margins) on `paper`."""
        if paper not in PAPERS:
            raise ValueError(f"paper {paper!r} is not one of {', '.join(PAPERS)}")
        paper_width, paper_height = PAPERS[paper]
        with self.page(url, printable_width(paper), media="print") as (page, _):
            try:
                data = page.pdf(
                    width=f"{paper_width}in",
                    height=f"{paper_height}in",
                    print_background=True,
                    prefer_css_page_size=False,
                )
            except PlaywrightError as exc:
                raise BrowserError(f"printing {url} to PDF failed: {exc.message}") from exc
        Path(out).write_bytes(data)
        return data

    def close(self) -> None:
        """Quit Chromium and Playwright's driver."""
        try:
            self._tabs.clear()
            self._browser.close()
        finally:
            self._playwright.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pdf_pages(data: bytes) -> int:
    """The number of pages of a PDF Chromium printed: its `/Type /Page` objects (Chromium
    writes page dictionaries uncompressed; `/Pages`, the page tree, does not count)."""
    return len(re.findall(rb"/Type\s*/Page\b", data))


def printable_width(paper: str) -> int:
    """The page box width in CSS px on `paper` inside the packets' @page margins."""
    return int(PAPERS[paper][0] * 96 - 2 * PRINT_MARGIN_MM * 96 / 25.4)


def main(argv: list[str] | None = None) -> int:
    """`python tests/browser.py screenshot|pdf|check PAGE ...`."""
    parser = argparse.ArgumentParser(prog="python tests/browser.py")
    sub = parser.add_subparsers(dest="command", required=True)
    shot = sub.add_parser("screenshot", help="full-page PNG of an HTML packet")
    shot.add_argument("page", type=Path)
    shot.add_argument("out", type=Path)
    shot.add_argument("--width", type=int, default=PHONE_WIDTH)
    shot.add_argument("--selector", help="only this element (a CSS selector), e.g. '#actions'")
    shot.add_argument("--max-height", type=int, default=6000, help="CSS px at most")
    pdf = sub.add_parser("pdf", help="print an HTML packet to PDF")
    pdf.add_argument("page", type=Path)
    pdf.add_argument("out", type=Path)
    pdf.add_argument("--paper", choices=sorted(PAPERS), default="A4")
    check = sub.add_parser("check", help="console errors and overflow at phone and desktop")
    check.add_argument("pages", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        with Browser() as browser:
            if args.command == "screenshot":
                result = browser.screenshot(
                    args.page.resolve().as_uri(),
                    args.out,
                    args.width,
                    max_height=args.max_height,
                    selector=args.selector,
                )
                print(result.describe())
            elif args.command == "pdf":
                browser.print_pdf(args.page.resolve().as_uri(), args.out, args.paper)
                print(f"wrote {args.out}")
            else:
                bad = 0
                for page in args.pages:
                    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
                        result = browser.check(page.resolve().as_uri(), width)
                        bad += not result.ok
                        print(result.describe())
                return 1 if bad else 0
    except BrowserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
