"""Headless Chromium for packets, driven over the DevTools protocol on a pipe (no extra
packages): check a page at a width for console errors and horizontal overflow, take a
screenshot, and print it to PDF (A4 or Letter).

Needs Debian's `chromium` (`apt-get install -y chromium`): `/usr/bin/chromium`, or
$SALESPREP_CHROMIUM. Run `python -m salesprep.packets.browser --help` for the command line."""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ENV = "SALESPREP_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
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
    "--remote-debugging-pipe",
)
PHONE_WIDTH = 390
DESKTOP_WIDTH = 1280
# Paper (width, height) in inches, and the printable width in CSS px at the packets' 12 mm
# @page margins (96 px per inch).
PAPERS: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}
PRINT_MARGIN_MM = 12

# Reported per page: the document's width, and the elements sticking out past the device
# width (outside the table wrappers, which scroll on their own). Measured against the width
# asked for, not innerWidth: a mobile viewport zooms out to fit a page that is too wide.
_LAYOUT_JS = """
(() => {
  const width = __WIDTH__;
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
})()
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


class Browser:
    """One headless Chromium, spoken to over --remote-debugging-pipe (fds 3 and 4)."""

    def __init__(self, executable: str | None = None, timeout: float = 30.0) -> None:
        self.executable = executable or chromium_path()
        if not self.executable:
            raise BrowserError(
                f"Chromium not found at {DEFAULT_CHROMIUM} (or ${CHROMIUM_ENV}): "
                "apt-get install -y chromium"
            )
        self.timeout = timeout
        self._next_id = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition()
        self._responses: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._closed = False
        self._profile = tempfile.mkdtemp(prefix="salesprep-chromium-")
        self._start()

    def _start(self) -> None:
        to_chrome_read, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_write = os.pipe()

        def _wire_pipes() -> None:  # in the child, before exec: Chromium expects fds 3 and 4
            read_fd = fcntl.fcntl(to_chrome_read, fcntl.F_DUPFD, 10)
            write_fd = fcntl.fcntl(from_chrome_write, fcntl.F_DUPFD, 10)
            os.dup2(read_fd, 3)
            os.dup2(write_fd, 4)

        args = [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"]
        try:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Only os-level dup calls in the child. close_fds stays off: fds 3 and 4
                # exist only after preexec_fn, and Python's own fds are close-on-exec anyway.
                preexec_fn=_wire_pipes,
                close_fds=False,
                start_new_session=True,
            )
        except OSError as exc:
            raise BrowserError(f"starting Chromium {self.executable} failed: {exc}") from exc
        finally:
            os.close(to_chrome_read)
            os.close(from_chrome_write)
        self._reader = threading.Thread(target=self._read, name="chromium-cdp", daemon=True)
        self._reader.start()
        self.send("Browser.getVersion")

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                with self._arrived:
                    if "id" in message:
                        self._responses[message["id"]] = message
                    else:
                        self._events.append(message)
                    self._arrived.notify_all()
        with self._arrived:
            self._closed = True
            self._arrived.notify_all()

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session_id: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """One DevTools command; its result, or BrowserError naming the method."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        try:
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"Chromium closed its pipe before {method}: {exc}") from exc
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._arrived:
            while ident not in self._responses:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    state = "exited" if self._closed else "timed out"
                    raise BrowserError(f"Chromium {state} waiting for {method}")
                self._arrived.wait(left)
            response = self._responses.pop(ident)
        if "error" in response:
            raise BrowserError(f"{method} failed: {response['error'].get('message')}")
        return response.get("result", {})

    def _wait_event(self, method: str, session_id: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._arrived:
            while True:
                for event in self._events:
                    if event.get("method") == method and event.get("sessionId") == session_id:
                        self._events.remove(event)
                        return
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise BrowserError(f"no {method} from Chromium in time")
                self._arrived.wait(left)

    def _errors(self, session_id: str) -> list[str]:
        errors = []
        with self._arrived:
            for event in self._events:
                if event.get("sessionId") != session_id:
                    continue
                method, params = event.get("method"), event.get("params", {})
                if method == "Runtime.exceptionThrown":
                    details = params.get("exceptionDetails", {})
                    text = details.get("exception", {}).get("description") or details.get("text")
                    errors.append(f"exception: {text}")
                elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                    "error",
                    "assert",
                ):
                    args = " ".join(
                        str(a.get("value", a.get("description"))) for a in params["args"]
                    )
                    errors.append(f"console.{params['type']}: {args}")
                elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                    entry = params["entry"]
                    errors.append(
                        f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}"
                    )
        return errors

    @contextmanager
    def page(
        self, url: str, width: int, *, height: int = 900, media: str = "screen"
    ) -> Iterator[tuple[str, PageCheck]]:
        """Open `url` at `width` CSS px (phone widths emulate a mobile device); yields the
        DevTools session id and the page check, and closes the tab after."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            for domain in ("Page", "Runtime", "Log"):
                self.send(f"{domain}.enable", session_id=session)
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 2 if width < 600 else 1,
                    "mobile": width < 600,
                },
                session_id=session,
            )
            self.send("Emulation.setEmulatedMedia", {"media": media}, session_id=session)
            navigated = self.send("Page.navigate", {"url": url}, session_id=session)
            if navigated.get("errorText"):
                raise BrowserError(f"loading {url} failed: {navigated['errorText']}")
            self._wait_event("Page.loadEventFired", session)
            layout = self.send(
                "Runtime.evaluate",
                {"expression": _LAYOUT_JS.replace("__WIDTH__", str(width)), "returnByValue": True},
                session_id=session,
            )["result"]["value"]
            check = PageCheck(
                url=url,
                width=width,
                media=media,
                scroll_width=layout["scrollWidth"],
                inner_width=layout["innerWidth"],
                height=layout["height"],
                errors=self._errors(session),
                overflowing=layout["overflowing"],
            )
            yield session, check
        finally:
            self.send("Target.closeTarget", {"targetId": target})
            with self._arrived:
                self._events = [e for e in self._events if e.get("sessionId") != session]

    def check(self, url: str, width: int, media: str = "screen") -> PageCheck:
        """Load `url` at `width` and report errors and overflow."""
        with self.page(url, width, media=media) as (_, check):
            return check

    def screenshot(self, url: str, out: Path, width: int, max_height: int = 6000) -> PageCheck:
        """A full-page PNG of `url` at `width` (capped at `max_height` CSS px)."""
        with self.page(url, width) as (session, check):
            height = min(check.height, max_height)
            shot = self.send(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                },
                session_id=session,
            )
        Path(out).write_bytes(base64.b64decode(shot["data"]))
        return check

    def print_pdf(self, url: str, out: Path, paper: str = "A4") -> bytes:
        """`url` printed as the browser prints it (print CSS, @page margins) on `paper`."""
        if paper not in PAPERS:
            raise ValueError(f"paper {paper!r} is not one of {', '.join(PAPERS)}")
        paper_width, paper_height = PAPERS[paper]
        with self.page(url, printable_width(paper), media="print") as (session, _):
            pdf = self.send(
                "Page.printToPDF",
                {
                    "paperWidth": paper_width,
                    "paperHeight": paper_height,
                    "printBackground": True,
                    "preferCSSPageSize": False,
                },
                session_id=session,
                timeout=60,
            )
        data = base64.b64decode(pdf["data"])
        Path(out).write_bytes(data)
        return data

    def close(self) -> None:
        """Ask Chromium to quit, then make sure it did; remove its profile folder."""
        if self._process.poll() is None:
            with suppress(BrowserError):
                self.send("Browser.close", timeout=5)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        for fd in (self._to_chrome, self._from_chrome):
            with suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def printable_width(paper: str) -> int:
    """The page box width in CSS px on `paper` inside the packets' @page margins."""
    return int(PAPERS[paper][0] * 96 - 2 * PRINT_MARGIN_MM * 96 / 25.4)


def main(argv: list[str] | None = None) -> int:
    """`python -m salesprep.packets.browser screenshot|pdf|check PAGE ...`."""
    parser = argparse.ArgumentParser(prog="python -m salesprep.packets.browser")
    sub = parser.add_subparsers(dest="command", required=True)
    shot = sub.add_parser("screenshot", help="full-page PNG of an HTML packet")
    shot.add_argument("page", type=Path)
    shot.add_argument("out", type=Path)
    shot.add_argument("--width", type=int, default=PHONE_WIDTH)
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
                result = browser.screenshot(args.page.resolve().as_uri(), args.out, args.width)
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
