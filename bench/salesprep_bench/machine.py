"""The machine a benchmark ran on: cores, memory, CPU, load, and the versions that matter."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

_PACKAGES = (
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "dbt-postgres",
    "simple-salesforce",
    "apache-airflow",
    "apache-airflow-providers-salesforce",
    "pyarrow",
    "pandas",
    "great-expectations",
)


def describe_machine() -> dict[str, Any]:
    """Cores (total and usable by this process), memory, CPU model, load and package versions."""
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_bytes": meminfo("MemTotal"),
        "memory_available_bytes": meminfo("MemAvailable"),
        "cpu_model": _cpu_model(),
        "load_average_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
    }


def meminfo(key: str) -> int | None:
    """A `/proc/meminfo` value (e.g. MemAvailable) in bytes, or None where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
