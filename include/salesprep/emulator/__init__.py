"""A local Salesforce API emulator serving an org folder to the real simple-salesforce client."""

from salesprep.emulator.auth import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    Credentials,
)
from salesprep.emulator.faults import FaultConfig, FaultInjector
from salesprep.emulator.messages import Request, Response
from salesprep.emulator.server import (
    DEFAULT_DAILY_API_LIMIT,
    Emulator,
    EmulatorConfig,
    EmulatorHandle,
    run_emulator,
    serve,
)
from salesprep.emulator.store import write_deleted_records

__all__ = [
    "DEFAULT_CONSUMER_KEY",
    "DEFAULT_CONSUMER_SECRET",
    "DEFAULT_DAILY_API_LIMIT",
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_USERNAME",
    "Credentials",
    "Emulator",
    "EmulatorConfig",
    "EmulatorHandle",
    "FaultConfig",
    "FaultInjector",
    "Request",
    "Response",
    "run_emulator",
    "serve",
    "write_deleted_records",
]
