"""The checks a run passes before it does any work: every folder it will write is a folder it
can write, the shared folder's URL scheme is one fsspec knows, and the Salesforce connection in
the environment is well-formed. Each failure is one line naming the setting and the fix, so a
typo stops the run in a second instead of 30 seconds in, with an errno.

The storage checks are the ones `salesprep doctor` prints (`salesprep.doctor.storage`); a run
stops at the first that fails.
"""

from __future__ import annotations

from salesprep.config import Settings


class PreflightError(ValueError):
    """A setting that would make the run fail later; names the setting and the fix."""


def check_settings(settings: Settings, *, check_connection: bool = True) -> None:
    """Raise PreflightError for the first setting a run could not work with."""
    from salesprep.doctor.model import Status
    from salesprep.doctor.storage import storage_checks

    for check in storage_checks(settings):
        if check.status is Status.FAIL:
            raise PreflightError(f"{check.name}: {check.detail}; {check.fix}")
    if check_connection:
        from salesprep.salesforce.connection import check_connection_env

        check_connection_env(settings.salesforce.conn_id)
