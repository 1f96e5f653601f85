"""What a doctor run finds: one `Check` per line it prints, and the report they make up."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How a check came out. Only FAIL makes `salesprep doctor` exit non-zero."""

    OK = "OK"
    # A fact about the org that is neither good nor bad (e.g. a single-currency org).
    INFO = "INFO"
    # The run works, but a number or a packet section will be missing or weaker.
    WARN = "WARN"
    # The run would fail, or publish wrong numbers: the line says how to fix it.
    FAIL = "FAIL"
    # Not checked, because an earlier check failed (the detail says which).
    SKIP = "SKIP"


@dataclass(frozen=True)
class Check:
    """One finding: `name` is what was checked, `detail` what was found, `fix` what to do."""

    status: Status
    name: str
    detail: str
    fix: str = ""
    # Machine-readable specifics for `--json` (counts, missing fields, affected metrics).
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "name": self.name,
            "detail": self.detail,
            "fix": self.fix,
            "data": self.data,
        }


def ok(name: str, detail: str, **data: Any) -> Check:
    return Check(Status.OK, name, detail, data=data)


def info(name: str, detail: str, **data: Any) -> Check:
    return Check(Status.INFO, name, detail, data=data)


def warn(name: str, detail: str, fix: str = "", **data: Any) -> Check:
    return Check(Status.WARN, name, detail, fix, data=data)


def fail(name: str, detail: str, fix: str, **data: Any) -> Check:
    return Check(Status.FAIL, name, detail, fix, data=data)


def skip(name: str, why: str) -> Check:
    return Check(Status.SKIP, name, f"not checked: {why}")


@dataclass
class DoctorReport:
    """Every check of one doctor run, in the order they ran."""

    target: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    api_calls: int = 0

    @property
    def failed(self) -> bool:
        return any(c.status is Status.FAIL for c in self.checks)

    def counts(self) -> dict[str, int]:
        counted = Counter(c.status for c in self.checks)
        return {str(s): counted[s] for s in Status if counted[s]}

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        verdict = "the run would fail: fix each FAIL" if self.failed else "ready to run"
        return (
            f"doctor: {counts} in {self.seconds:.1f}s ({self.api_calls} Salesforce API "
            f"call(s)); {verdict}"
        )

    def lines(self) -> list[str]:
        """The report as printed: one line per check, an indented fix under it."""
        out = [f"salesprep doctor: {self.target}"]
        for check in self.checks:
            out.append(f"{check.status:<4}  {check.name}: {check.detail}")
            if check.fix:
                out.append(f"      fix: {check.fix}")
        out.append(self.summary())
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": not self.failed,
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "api_calls": self.api_calls,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str) + "\n"
