"""`salesprep doctor`: check the configured connection, or an org folder served by the
in-process emulator, and print one line per check; exit 1 on any FAIL."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from salesprep.weeks import Week


def doctor_cli(
    *,
    week: Week,
    org_dir: Path | None,
    json_path: Path | None,
    shared_folder: str | None,
    warehouse: Path | None,
    data_dir: Path | None,
    quiet: bool = True,
) -> int:
    """Run every check, print the report (and write it as JSON to `json_path`); 0 without FAIL."""
    from salesprep.cli import UsageError
    from salesprep.cli.run import serving_org
    from salesprep.doctor import run_doctor

    if json_path is not None and not json_path.parent.is_dir():
        raise UsageError(f"--json {json_path}: the folder {json_path.parent} does not exist")
    if json_path is not None and json_path.is_dir():
        raise UsageError(f"--json {json_path} is a folder: give a file path")
    overrides: dict[str, object] = {}
    if shared_folder:
        overrides["shared_folder"] = shared_folder
    if warehouse:
        overrides["warehouse_path"] = warehouse
    if data_dir:
        overrides["data_dir"] = data_dir
    with contextlib.ExitStack() as stack:
        if quiet:
            # The report says what the INFO logs of login and loading would repeat.
            stack.enter_context(_logs_at_warning("salesprep"))
        if org_dir is not None:
            base_url = stack.enter_context(serving_org(org_dir))
            target = f"org folder {org_dir}, served by the emulator at {base_url}"
        else:
            target = "the configured Salesforce connection"
        report = run_doctor(target=f"{target}, for {week.label}", week=week, overrides=overrides)
    print("\n".join(report.lines()), flush=True)
    if json_path is not None:
        try:
            json_path.write_text(report.to_json(), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--json {json_path}: cannot write it: {exc.strerror}") from exc
    return 1 if report.failed else 0


@contextlib.contextmanager
def _logs_at_warning(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)
