"""`salesprep run`: one weekly run without a scheduler, optionally against a local org folder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from salesprep.config import environment_overrides, load_settings
from salesprep.weeks import Week


@contextlib.contextmanager
def serving_org(org_dir: Path) -> Iterator[str]:
    """Serve `org_dir` through the in-process emulator and point the Salesforce connection at it,
    so the data still travels over HTTP through simple-salesforce."""
    from salesprep.emulator import Credentials, run_emulator
    from salesprep.salesforce.connection import salesforce_conn_env

    if not org_dir.is_dir():
        raise FileNotFoundError(f"org folder {org_dir} does not exist or is not a folder")
    with (
        run_emulator(org_dir) as emulator,
        environment_overrides(salesforce_conn_env(emulator.base_url, Credentials())),
    ):
        yield emulator.base_url


def run_week_cli(
    *,
    week: Week,
    org_dir: Path | None,
    shared_folder: str | None,
    warehouse: Path | None,
    data_dir: Path | None,
    reset_history: bool = False,
) -> int:
    """Run every step of `week` in this process, print where the outputs went; 0 on success.
    `reset_history` drops another org's history from the data dir (salesprep.warehouse.history)."""
    from salesprep.pipeline import run_week
    from salesprep.quality.report import quality_root

    overrides: dict[str, object] = {}
    if shared_folder:
        overrides["shared_folder"] = shared_folder
    if warehouse:
        overrides["warehouse_path"] = warehouse
    if data_dir:
        overrides["data_dir"] = data_dir
    settings = load_settings(**overrides)
    with contextlib.ExitStack() as stack:
        if org_dir is not None:
            base_url = stack.enter_context(serving_org(org_dir))
            print(f"serving {org_dir} through the Salesforce emulator at {base_url}", flush=True)
        summaries = run_week(
            week,
            settings,
            progress=lambda line: print(line, flush=True),
            reset_history=reset_history,
        )
    published = summaries.get("publish_packets", {})
    print(f"packets for {week.label}: {published.get('url', settings.shared_folder_url)}")
    print(f"warehouse for BI: {settings.published_warehouse_path}")
    print(f"quality reports: {quality_root(settings, week)}")
    return 0
