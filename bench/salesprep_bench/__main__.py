"""`python -m salesprep_bench --size S|M|L`: run the benchmark of one size and write
`bench/results/<date>-<size>.{json,md}` (what `make bench SIZE=M` runs)."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salesprep_bench.child import BENCH_DIR
from salesprep_bench.report import write_results
from salesprep_bench.sizes import SIZES, UnknownSizeError, get_size
from salesprep_bench.suite import GROUPS, Bench, Options


def run_benchmark(
    size_name: str,
    *,
    options: Options | None = None,
    results_dir: Path | None = None,
    work_root: Path | None = None,
    tag: str = "",
) -> dict[str, Any]:
    """Run the benchmark of `size_name`; returns the results with the paths written."""
    size = get_size(size_name)
    options = options or Options()
    results_dir = results_dir or BENCH_DIR / "results"
    work_root = work_root or BENCH_DIR / "work"
    stamp = datetime.now(UTC)
    work = work_root / f"run-{size.name}-{stamp:%Y%m%dT%H%M%S}-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=False)
    try:
        results = Bench(size, work, options).run()
        paths = write_results(results, results_dir, f"{stamp:%Y-%m-%d}-{size.name}{tag}")
    finally:
        if not options.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    return {**results, "paths": {k: str(v) for k, v in paths.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m salesprep_bench",
        description="Benchmark salesprep on a generated org: every step, peers and limits.",
    )
    parser.add_argument("--size", default="M", help=f"one of {', '.join(SIZES)} (default M)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--work-dir", type=Path, default=None, help="default bench/work")
    parser.add_argument("--no-peers", action="store_true", help="skip the extraction peers")
    parser.add_argument("--no-tap", action="store_true", help="skip the Singer tap peer")
    parser.add_argument(
        "--no-in-memory-peers",
        action="store_true",
        help="skip simple-salesforce query_all and the Airflow hook (they hold whole objects)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the Postgres target")
    parser.add_argument("--no-growth", action="store_true", help="skip the history series")
    parser.add_argument("--keep-work", action="store_true", help="keep the work dir")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated groups to run besides the week's end-to-end run: "
        + "; ".join(f"{name} ({what})" for name, what in GROUPS.items()),
    )
    parser.add_argument(
        "--tag", default="", help="suffix of the result files: <date>-<size>-<tag>.{json,md}"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.runs < 1:
        print("error: --runs must be at least 1", file=sys.stderr)
        return 2
    only = None
    if args.only is not None:
        only = frozenset(part.strip() for part in args.only.split(",") if part.strip())
        unknown = sorted(only - set(GROUPS))
        if unknown:
            print(
                f"error: unknown --only group(s) {', '.join(unknown)}; groups: "
                + ", ".join(GROUPS),
                file=sys.stderr,
            )
            return 2
    try:
        result = run_benchmark(
            args.size,
            options=Options(
                runs=args.runs,
                peers=not args.no_peers,
                singer_tap=not args.no_tap,
                in_memory_peers=not args.no_in_memory_peers,
                postgres=not args.no_postgres,
                growth=not args.no_growth,
                keep_work=args.keep_work,
                only=only,
            ),
            results_dir=args.results_dir,
            work_root=args.work_dir,
            tag=f"-{args.tag}" if args.tag else "",
        )
    except UnknownSizeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for kind, path in result["paths"].items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
