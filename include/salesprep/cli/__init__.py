"""The `salesprep` console script: generate a demo org, serve it, run a week, run the demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from salesprep.runs.record import one_line
from salesprep.weeks import InvalidWeekError, Week


class UsageError(Exception):
    """Bad command-line input: printed as one line on stderr, exit code 2."""


class Terminated(Exception):
    """SIGTERM arrived: raised in the main thread so that the run stops like a failure (its
    quality report is published, staging folders and the emulator's temp copy are removed,
    the lease is released) instead of vanishing mid-write."""


def _raise_terminated(signum: int, frame: object) -> None:
    # Once: a second SIGTERM must not interrupt the cleanup the first one started.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated(f"stopped by signal {signal.Signals(signum).name}; nothing was published")


def _week(value: str) -> Week:
    try:
        return Week.parse(value)
    except InvalidWeekError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from exc
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from exc
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return number


def _last_complete_week() -> Week:
    # The CLI is the one place that reads the wall clock: to pick a default week.
    return Week.last_complete(datetime.now(UTC))


# `generate-org` options that set `salesprep.demo_org.OrgShape` fields (None: not given).
_SHAPE_OPTIONS = (
    "currencies", "dated_rates", "currency_without_rate", "fiscal_start_month",
    "fiscal_year_named_by_start", "custom_fiscal_year", "monthly_quotas", "email_tasks",
    "meetings", "record_types", "forecast_categories", "locale",
)  # fmt: skip


def _currencies(value: str) -> tuple[str, ...]:
    codes = tuple(part.strip().upper() for part in value.split(",") if part.strip())
    if not codes:
        raise argparse.ArgumentTypeError("give ISO codes such as USD,EUR,GBP")
    return codes


def _month(value: str) -> int:
    number = _positive(value)
    if number > 12:
        raise argparse.ArgumentTypeError(f"month {value} is outside 1..12")
    return number


def _cmd_generate_org(args: argparse.Namespace) -> int:
    from salesprep.demo_org import INTERNATIONAL, DemoOrgError, generate_org

    end_week = args.end_week or _last_complete_week()
    options = {name: getattr(args, name) for name in _SHAPE_OPTIONS}
    try:
        summary = generate_org(
            Path(args.out_dir),
            reps=args.reps,
            managers=args.managers,
            weeks=args.weeks,
            seed=args.seed,
            end_week=end_week,
            shape=INTERNATIONAL if args.international else None,
            **{name: value for name, value in options.items() if value is not None},
        )
    except DemoOrgError as exc:
        raise UsageError(str(exc)) from exc
    print(f"wrote a demo org to {args.out_dir}: {summary.describe()}")
    return 0


def _cmd_emulator(args: argparse.Namespace) -> int:
    from salesprep.cli.emulator import serve_emulator_cli

    return serve_emulator_cli(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from salesprep.cli.run import run_week_cli
    from salesprep.pipeline import RunOptions, RunOptionsError

    try:
        options = RunOptions(
            full_extract=args.full_extract,
            full_refresh=args.full_refresh,
            republish=args.republish,
            allow_partial_week=args.allow_partial_week,
            reset_history=args.reset_history,
        )
    except RunOptionsError as exc:
        raise UsageError(str(exc)) from exc
    return run_week_cli(
        week=args.week,
        org_dir=Path(args.org) if args.org else None,
        shared_folder=args.shared_folder,
        warehouse=Path(args.warehouse) if args.warehouse else None,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        options=options,
        wait_seconds=args.wait,
    )


def _cmd_doctor(args: argparse.Namespace) -> int:
    from salesprep.cli.doctor import doctor_cli

    return doctor_cli(
        week=args.week or _last_complete_week(),
        org_dir=Path(args.org) if args.org else None,
        json_path=Path(args.json) if args.json else None,
        shared_folder=args.shared_folder,
        warehouse=Path(args.warehouse) if args.warehouse else None,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        quiet=not args.verbose,
    )


def _cmd_status(args: argparse.Namespace) -> int:
    from salesprep.cli.status import status_cli

    return status_cli(
        as_json=args.json,
        shared_folder=args.shared_folder,
        data_dir=Path(args.data_dir) if args.data_dir else None,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from salesprep.cli.demo import default_dir, run_demo

    return run_demo(
        Path(args.dir) if args.dir else default_dir(args.international),
        reps=args.reps,
        managers=args.managers,
        weeks=args.weeks,
        runs=args.runs,
        international=args.international,
    )


def _add_shape_arguments(gen: argparse.ArgumentParser) -> None:
    """The options of a real company's org (docs/extraction.md, "Demo orgs")."""
    shape = gen.add_argument_group(
        "org shape", "what a real company's org has beyond the default demo org"
    )
    shape.add_argument(
        "--international",
        action="store_true",
        help=(
            "a European company selling worldwide: EUR (corporate), USD, GBP, JPY with dated "
            "rates, fiscal year from February, monthly quotas, no email Tasks, record types, "
            "forecast categories, locale de_DE; the options below change it further"
        ),
    )
    shape.add_argument(
        "--currencies",
        type=_currencies,
        metavar="CODES",
        help="multi-currency: ISO codes, the first the corporate one (e.g. USD,EUR,GBP,JPY)",
    )
    flag = {"action": "store_const", "const": True, "default": None}
    shape.add_argument("--dated-rates", **flag, help="monthly dated exchange rates (ACM)")
    shape.add_argument(
        "--currency-without-rate",
        metavar="CODE",
        help="test edge case: deals and one rep's quota in a currency with no rate at all",
    )
    shape.add_argument(
        "--fiscal-start-month", type=_month, metavar="M", help="fiscal year start month, 1..12"
    )
    shape.add_argument(
        "--fiscal-year-named-by-start",
        **flag,
        help="name fiscal years by the year they start in (UsesStartDateAsFiscalYearName)",
    )
    shape.add_argument(
        "--custom-fiscal-year",
        **flag,
        help="custom 4-4-5 fiscal years (FiscalYearSettings, Period), quarters not on months",
    )
    shape.add_argument(
        "--monthly-quotas", **flag, help="one quota row per fiscal month, summing to the quarter"
    )
    off = {"action": "store_const", "const": False, "default": None}
    shape.add_argument(
        "--no-email-tasks",
        dest="email_tasks",
        **off,
        help="emails are not logged as Tasks (e.g. Einstein Activity Capture keeps them)",
    )
    shape.add_argument(
        "--no-meetings", dest="meetings", **off, help="meetings are not logged as Events"
    )
    shape.add_argument(
        "--record-types", **flag, help="New Business, Renewal, Expansion record types"
    )
    shape.add_argument(
        "--forecast-categories",
        **flag,
        help="Best Case and Commit overrides, some open deals Omitted",
    )
    shape.add_argument("--locale", help="Organization.DefaultLocaleSidKey (default en_US)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesprep",
        description="Weekly sales manager–rep 1:1 prep packets from Salesforce.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser(
        "generate-org",
        help="write a believable demo Salesforce org as CSVs",
        description="Write a demo org folder: one <Object>.csv per Salesforce object.",
    )
    gen.add_argument("out_dir", metavar="OUT_DIR")
    gen.add_argument("--reps", type=_positive, default=24, help="sales reps (default 24)")
    gen.add_argument("--managers", type=_positive, default=4, help="sales managers (default 4)")
    gen.add_argument("--weeks", type=_positive, default=26, help="weeks of history (default 26)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    gen.add_argument(
        "--end-week",
        type=_week,
        default=None,
        help="last week of data, YYYY-Www (default: the last complete week)",
    )
    _add_shape_arguments(gen)
    gen.set_defaults(handler=_cmd_generate_org)

    emu = commands.add_parser(
        "emulator",
        help="serve an org folder over the Salesforce REST and Bulk 2.0 APIs",
        description="Serve ORG_DIR as a Salesforce org (REST, SOAP login, OAuth) until stopped.",
    )
    from salesprep.cli.emulator import add_emulator_arguments

    add_emulator_arguments(emu)
    emu.set_defaults(handler=_cmd_emulator)

    run = commands.add_parser(
        "run",
        help="run one week: extract, check, build, render, publish",
        description=(
            "One weekly run, the same steps as the Airflow DAG. With --org, an emulator serves "
            "the org folder in-process and data still travels over HTTP through "
            "simple-salesforce; without it, the Salesforce connection from the environment "
            "(AIRFLOW_CONN_SALESFORCE_DEFAULT) is used."
        ),
    )
    run.add_argument("--week", type=_week, required=True, help="ISO week, YYYY-Www")
    run.add_argument("--org", metavar="ORG_DIR", help="org folder to serve through the emulator")
    run.add_argument("--shared-folder", metavar="URL", help="local path or fsspec URL")
    run.add_argument("--warehouse", metavar="PATH", help="published DuckDB file for BI")
    run.add_argument("--data-dir", metavar="DIR", help="raw data, build files, quality reports")
    run.add_argument(
        "--reset-history",
        action="store_true",
        help=(
            "when the data dir holds another Salesforce org's history, drop it (warehouse, "
            "weekly snapshots, landing zone, watermarks) and start afresh with this org"
        ),
    )
    run.add_argument(
        "--allow-partial-week",
        action="store_true",
        help="prepare a week that has not ended or that the data does not reach yet; every "
        "packet then says 'partial week, data to <time>'",
    )
    run.add_argument(
        "--full-extract",
        action="store_true",
        help="re-pull every Salesforce object from scratch, ignoring the saved watermarks",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental dbt model from scratch (dbt build --full-refresh); "
        "needed once after upgrading a data dir from an older version",
    )
    run.add_argument(
        "--republish",
        action="store_true",
        help="do not extract: rebuild, render and publish the week from the landing zone of "
        "the last extraction",
    )
    run.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run holding the data dir (default: refuse at once)",
    )
    run.set_defaults(handler=_cmd_run)

    doctor = commands.add_parser(
        "doctor",
        help="check the org, the connection, the settings and the folders before a first run",
        description=(
            "A read-only preflight: the login, the API version, today's API usage, access to "
            "every object and field the pipeline reads, the org's shape, rows and a backfill "
            "estimate, and whether the folders are writable. One line per check (OK, INFO, "
            "WARN, FAIL, SKIP), the fix under each FAIL; exit code 1 on any FAIL. Writes "
            "nothing, except the --json file."
        ),
    )
    doctor.add_argument("--org", metavar="ORG_DIR", help="org folder to serve through the emulator")
    doctor.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")
    doctor.add_argument(
        "--week",
        type=_week,
        default=None,
        help="the week a run would prepare, YYYY-Www (default: the last complete week); "
        "it dates the 91-day activity window",
    )
    doctor.add_argument("--shared-folder", metavar="URL", help="local path or fsspec URL")
    doctor.add_argument("--warehouse", metavar="PATH", help="published DuckDB file for BI")
    doctor.add_argument("--data-dir", metavar="DIR", help="raw data, build files, quality reports")
    doctor.set_defaults(handler=_cmd_doctor)

    status = commands.add_parser(
        "status",
        help="which weeks are published, the last run, source freshness, the org",
        description=(
            "What the data dir and the shared folder hold: the published weeks and the newest "
            "one's pairs and who it left out, the last run (week, when, how long, how it "
            "ended, the step that failed, its API calls), source freshness, and the org the "
            "data belongs to. Reads, never writes. --json prints it as JSON (keys in "
            "docs/operations.md)."
        ),
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.add_argument("--shared-folder", metavar="URL", help="local path or fsspec URL")
    status.add_argument("--data-dir", metavar="DIR", help="raw data, build files, run records")
    status.set_defaults(handler=_cmd_status)

    demo = commands.add_parser(
        "demo",
        help="generate a demo org and run the Airflow DAG on it",
        description=(
            "Generate a demo org, serve it, run the salesprep_weekly DAG through Airflow for the "
            "latest complete week(s), and print where the packets are. Writes only under DIR."
        ),
    )
    demo.add_argument(
        "--dir",
        default=None,
        help="folder for everything (default ./demo, ./demo-international with --international)",
    )
    demo.add_argument(
        "--international",
        action="store_true",
        help=(
            "an international org (generate-org --international): EUR corporate currency with "
            "USD, GBP, JPY and dated rates, fiscal year from February, monthly quotas, no email "
            "Tasks, record types, forecast categories"
        ),
    )
    demo.add_argument("--reps", type=_positive, default=24)
    demo.add_argument("--managers", type=_positive, default=4)
    demo.add_argument("--weeks", type=_positive, default=26)
    demo.add_argument("--runs", type=_positive, default=1, help="latest weeks to run (default 1)")
    demo.set_defaults(handler=_cmd_demo)
    return parser


# Commands that do long work: in a terminal they show live progress (salesprep.progress).
_LONG_WORK = frozenset({"run", "generate-org", "demo"})


@contextlib.contextmanager
def _logging_to(stream: TextIO, level: int) -> Iterator[None]:
    """The command's log lines on `stream` while it runs. Logs go to stdout with the progress
    lines, and stderr carries only the one-line error; `status` prints what scripts read
    (--json) on stdout, so its logs go to stderr. Not `logging.basicConfig`: it does nothing
    when the root logger already has a handler, as it has once Airflow was imported in this
    process, and that handler may write to a stream that is no longer this command's."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with contextlib.ExitStack() as stack:
            level = logging.DEBUG if args.verbose else logging.INFO
            stream = sys.stderr if args.command == "status" else sys.stdout
            stack.enter_context(_logging_to(stream, level))
            if args.command in _LONG_WORK:
                from salesprep import progress

                stack.enter_context(progress.reporting(progress.for_stream(sys.stdout)))
            return args.handler(args)
    except KeyboardInterrupt:
        print("salesprep: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"salesprep {args.command}: {exc}", file=sys.stderr)
        return 128 + signal.SIGTERM
    except Exception as exc:  # one clear line, never a traceback, for any failure we can name
        if args.verbose:
            raise
        # Multi-line messages (a quality gate lists each failed check) are joined, long ones cut.
        print(f"salesprep {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
