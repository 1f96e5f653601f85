"""`salesprep emulator`: serve an org folder as a Salesforce org until stopped, with the API
limits, faults and hidden objects or fields its flags ask for (resilience tests, the demo)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesprep.emulator import EmulatorConfig


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from exc
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0..65535")
    return number


def _rate_pair(value: str) -> tuple[int, float]:
    status, sep, rate = value.partition("=")
    try:
        if not sep:
            raise ValueError
        return int(status), float(rate)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not STATUS=RATE, e.g. 503=0.2") from exc


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag of `salesprep emulator`: where to listen, the limits and faults, `--hide`."""
    parser.add_argument("org_dir", metavar="ORG_DIR")
    parser.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    add_fault_arguments(parser)
    parser.add_argument(
        "--hide",
        action="append",
        default=[],
        metavar="OBJECT[.FIELD]",
        help="hide an object or field from the user, as field-level security does "
        "(repeatable; adds to the org folder's _permissions.yaml)",
    )


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's usage-limit and fault-injection flags."""
    group = parser.add_argument_group("API limits and fault injection (for resilience tests)")
    group.add_argument("--daily-api-limit", type=int, default=None, metavar="N")
    group.add_argument("--api-usage", type=int, default=0, metavar="N", help="calls already used")
    group.add_argument("--fault-seed", type=int, default=0, metavar="N")
    group.add_argument(
        "--fault-error",
        type=_rate_pair,
        action="append",
        default=[],
        metavar="STATUS=RATE",
        help="answer STATUS (429, 403, 500, 502, 503, 504) to this share of API requests",
    )
    group.add_argument("--fault-max-consecutive", type=int, default=2, metavar="N")
    group.add_argument(
        "--fault-session-expiry", type=int, default=0, metavar="N", help="expire sessions every N"
    )
    group.add_argument("--fault-slow", type=float, default=0.0, metavar="SECONDS")
    group.add_argument("--fault-slow-rate", type=float, default=0.0, metavar="RATE")
    group.add_argument(
        "--fault-drop-rate", type=float, default=0.0, metavar="RATE", help="cut answers midway"
    )
    group.add_argument(
        "--fault-modify-while-paging",
        type=int,
        default=0,
        metavar="N",
        help="edit N records of an object after its first page",
    )
    group.add_argument("--fault-exhaust-daily-limit", action="store_true")
    group.add_argument(
        "--fault-relogin-errors",
        type=int,
        default=0,
        metavar="N",
        help="after each session expiry, fail the next N logins (with --fault-relogin-status)",
    )
    group.add_argument("--fault-relogin-status", type=int, default=503, metavar="STATUS")
    group.add_argument(
        "--fault-bulk-result-drops",
        type=int,
        default=0,
        metavar="N",
        help="cut the first N Bulk result downloads midway",
    )
    group.add_argument(
        "--fault-bulk-poll-429s",
        type=int,
        default=0,
        metavar="N",
        help="answer 429 to the first N Bulk job polls",
    )


def emulator_config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The `EmulatorConfig` the flags of `add_fault_arguments` describe."""
    from salesprep.emulator import DEFAULT_DAILY_API_LIMIT, EmulatorConfig, FaultConfig

    faults = FaultConfig(
        seed=args.fault_seed,
        error_rates=dict(args.fault_error),
        max_consecutive=args.fault_max_consecutive,
        session_expiry_every=args.fault_session_expiry,
        slow_seconds=args.fault_slow,
        slow_rate=args.fault_slow_rate if args.fault_slow_rate or not args.fault_slow else 1.0,
        drop_rate=args.fault_drop_rate,
        modify_while_paging=args.fault_modify_while_paging,
        exhaust_daily_limit=args.fault_exhaust_daily_limit,
        relogin_errors=args.fault_relogin_errors,
        relogin_error_status=args.fault_relogin_status,
        bulk_result_drops=args.fault_bulk_result_drops,
        bulk_poll_429s=args.fault_bulk_poll_429s,
    )
    return EmulatorConfig(
        daily_api_limit=args.daily_api_limit or DEFAULT_DAILY_API_LIMIT,
        api_usage=args.api_usage,
        faults=faults if faults != FaultConfig(seed=args.fault_seed) else None,
    )


def serve_emulator_cli(args: argparse.Namespace) -> int:
    """Check the flags and the org folder's permissions file, then serve until stopped."""
    from salesprep.cli import UsageError
    from salesprep.emulator import serve
    from salesprep.emulator.faults import FaultConfigError
    from salesprep.emulator.permissions import Permissions, PermissionsError, load_permissions

    org_dir = Path(args.org_dir)
    if not org_dir.is_dir():
        raise UsageError(f"org folder {org_dir} does not exist")
    try:
        config = dataclasses.replace(emulator_config_from_args(args), hidden=frozenset(args.hide))
        # Checked before serving, so a typo is one line, not a server that hides nothing.
        Permissions.parse(config.hidden, source="--hide")
        load_permissions(org_dir)
    except (FaultConfigError, PermissionsError) as exc:
        raise UsageError(str(exc)) from exc
    print(f"serving {org_dir} as a Salesforce org on http://{args.host}:{args.port}", flush=True)
    serve(org_dir, host=args.host, port=args.port, config=config)
    return 0
