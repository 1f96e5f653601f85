"""Which process owns something on disk (a staging folder, the run lease): host and pid, and
whether that process still runs, so that what a killed run left can be told from what a live
one is writing."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

_HOST_CHARS = re.compile(r"[^A-Za-z0-9]")


def this_host() -> str:
    """This machine's name, reduced to letters and digits so it can sit inside file names."""
    return _HOST_CHARS.sub("", socket.gethostname())[:40] or "host"


@dataclass(frozen=True)
class ProcessOwner:
    """A process, by host name and pid."""

    host: str
    pid: int

    @classmethod
    def current(cls) -> ProcessOwner:
        return cls(this_host(), os.getpid())

    @property
    def is_current(self) -> bool:
        return self == ProcessOwner.current()

    @property
    def on_this_host(self) -> bool:
        return self.host == this_host()

    def is_running(self) -> bool | None:
        """True or False for a process of this host; None when it runs elsewhere, where this
        process cannot look."""
        if not self.on_this_host:
            return None
        return pid_running(self.pid)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def pid_running(pid: int) -> bool:
    """Whether a process with `pid` runs on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            # The state is the field after the parenthesised command name; Z is a zombie.
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
