"""`salesprep run`: one weekly run without a scheduler, optionally against a local org folder.

The run checks its settings before any work (one line naming the setting and the fix), holds
the same data dir lease as the Airflow DAG, and ends with a summary: where the packets, the
warehouse and the quality report are, whether the week is partial, and who got no packet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep.config import environment_overrides, load_settings
from salesprep.weeks import Week

if TYPE_CHECKING:
    from salesprep.pipeline import RunOptions


@contextlib.contextmanager
def serving_org(org_dir: Path) -> Iterator[str]:
    """Serve `org_dir` through the in-process emulator and point the Salesforce connection at it,
    so the data still travels over HTTP through simple-salesforce. The folder is checked first
    (`org_folder.checks`), and every object is loaded before the run starts, so that a value of
    the wrong type is one line naming it, not an HTTP 500 the extraction retries."""
    from salesprep.emulator import Credentials, run_emulator
    from salesprep.emulator.store import StoreError
    from salesprep.org_folder import OrgFolderError, check_org_folder
    from salesprep.salesforce.connection import salesforce_conn_env

    check_org_folder(org_dir)
    with (
        run_emulator(org_dir) as emulator,
        environment_overrides(salesforce_conn_env(emulator.base_url, Credentials())),
    ):
        store = emulator.emulator.store
        try:
            for name in store.object_names():
                store.loaded_schema(name)
        except StoreError as exc:
            detail = str(exc).replace("Invalid Input Error: ", "")
            raise OrgFolderError(
                f"org folder {org_dir}: {detail}; fix the value or export the org again"
            ) from exc
        yield emulator.base_url


def run_week_cli(
    *,
    week: Week,
    org_dir: Path | None,
    shared_folder: str | None,
    warehouse: Path | None,
    data_dir: Path | None,
    options: RunOptions | None = None,
    wait_seconds: float = 0.0,
) -> int:
    """Run every step of `week` in this process, as `options` say (the manual actions: a full
    extract, a dbt full refresh, a republish, a partial week, a history reset), and print
    where the outputs went; 0 on success."""
    from salesprep.org_folder import OrgFolderError
    from salesprep.pipeline import RunOptions, run_week
    from salesprep.quality.report import quality_root
    from salesprep.runs.lease import cli_lease, lease_store
    from salesprep.runs.preflight import check_settings

    overrides: dict[str, Any] = {}
    if shared_folder:
        overrides["shared_folder"] = shared_folder
    if warehouse:
        overrides["warehouse_path"] = warehouse
    if data_dir:
        overrides["data_dir"] = data_dir
    options = options or RunOptions()
    settings = options.apply(load_settings(**overrides))
    if org_dir is not None and not org_dir.is_dir():
        raise OrgFolderError(f"org folder {org_dir} (--org) does not exist or is not a folder")
    # Before any work: a bad setting is one line now, not an errno half-way through.
    check_settings(settings, check_connection=org_dir is None and not options.republish)
    with contextlib.ExitStack() as stack:
        lease = stack.enter_context(
            cli_lease(
                lease_store(settings),
                wait_seconds=wait_seconds,
                ttl_seconds=settings.guards.lease_ttl_seconds,
            )
        )
        if org_dir is not None:
            base_url = stack.enter_context(serving_org(org_dir))
            print(f"serving {org_dir} through the Salesforce emulator at {base_url}", flush=True)
        summaries = run_week(
            week,
            settings,
            progress=lambda line: print(line, flush=True),
            options=options,
            run_id=lease.owner,
        )
    published = summaries.get("publish", {})
    rendered = summaries.get("render_packets", {})
    print(f"packets for {week.label}: {published.get('url', settings.shared_folder_url)}")
    if rendered.get("partial_week_data_to"):
        print(f"partial week: data to {rendered['partial_week_data_to']}")
    print(f"warehouse for BI: {settings.published_warehouse_path}")
    print(f"quality reports: {quality_root(settings, week)}")
    unpaired = rendered.get("unpaired_users") or []
    if unpaired:
        print(f"{len(unpaired)} user(s) got no packet:")
        for user in unpaired:
            print(f"  {user['name']} ({user['user_id']}) {user['why']}")
    return 0
