"""The child side of the benchmark: `python -m salesprep_bench.steps STEP ARGS.json RESULT.json`
runs one step in a fresh process and writes its own timings and counts as JSON."""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from salesprep.weeks import Week
from salesprep_bench.child import PEAK_KEY, vm_hwm_bytes

Args = dict[str, Any]


# Imported before a step's own clock starts: its wall time still includes them, its step time
# is the work (a scheduler's worker would have them imported already).
_WARM_IMPORTS: dict[str, tuple[str, ...]] = {
    "extract": (
        "simple_salesforce",
        "airflow.providers.salesforce.hooks.salesforce",
        "salesprep.salesforce.connection",
        "salesprep.salesforce.extract",
    ),
    "check_raw": ("great_expectations", "salesprep.quality.raw_checkpoint"),
    "load_learnings": ("salesprep.learnings",),
    "build_marts": ("dbt.cli.main", "salesprep.warehouse"),
    "render_packets": ("salesprep.packets",),
    "publish": ("salesprep.warehouse", "salesprep.packets.publish"),
}


def _warm(step: str) -> None:
    for module in _WARM_IMPORTS.get(step, ()):
        importlib.import_module(module)


def _settings(args: Args):
    from salesprep.config import load_settings

    return load_settings(**args.get("settings", {}))


def generate(args: Args) -> dict[str, Any]:
    from salesprep.demo_org import generate_org

    started = time.perf_counter()
    summary = generate_org(
        Path(args["out_dir"]),
        reps=args["reps"],
        managers=args["managers"],
        weeks=args["weeks"],
        seed=args["seed"],
        end_week=Week.parse(args["end_week"]),
    )
    return {
        "seconds": time.perf_counter() - started,
        "rows": summary.rows,
        "pairs": summary.pairs,
        "total_rows": sum(summary.rows.values()),
    }


def pipeline_step(args: Args) -> dict[str, Any]:
    """One step of `salesprep.pipeline.STEPS`, by name, as the DAG's task would run it."""
    from salesprep.pipeline import STEPS

    steps = {step.name: step for step in STEPS}
    settings = _settings(args)
    week = Week.parse(args["week"])
    _warm(args["step"])
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = steps[args["step"]].run(week, settings)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        # The step's own CPU (every thread), without starting Python and the warm imports.
        "step_cpu_seconds": time.process_time() - cpu_started,
        "summary": summary,
    }
    if args["step"] == "extract":
        from salesprep.salesforce.report import load_report

        result["report"] = load_report(settings.raw_root).to_dict()["totals"]
    return result


def build(args: Args) -> dict[str, Any]:
    """`build_warehouse` with a selection, full refresh or not, on the settings' target."""
    from salesprep.warehouse import build_warehouse
    from salesprep.warehouse.runner import dbt_work_dir

    settings = _settings(args)
    _warm("build_marts")
    started = time.perf_counter()
    result = build_warehouse(
        settings,
        Week.parse(args["week"]),
        select=args.get("select"),
        full_refresh=bool(args.get("full_refresh")),
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "dbt_seconds": result.seconds,
        "nodes": len(result.nodes),
        "statuses": result.status_counts(),
        "model_seconds": round(
            sum(n.seconds for n in result.nodes if n.resource_type == "model"), 3
        ),
        "test_seconds": round(
            sum(n.seconds for n in result.nodes if n.resource_type in ("test", "unit_test")), 3
        ),
        "incremental_models": _incremental_models(dbt_work_dir(settings) / "target"),
    }


def _incremental_models(target: Path) -> list[str]:
    """Models dbt materialized as incremental in this build, read from its manifest."""
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return sorted(
        node["name"]
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and node.get("config", {}).get("materialized") == "incremental"
    )


def load_postgres(args: Args) -> dict[str, Any]:
    from salesprep.warehouse.postgres import load_raw_postgres

    started = time.perf_counter()
    counts = load_raw_postgres(Path(args["raw_root"]), _settings(args).postgres)
    return {"seconds": time.perf_counter() - started, "rows": sum(counts.values())}


def hand_query(args: Args) -> dict[str, Any]:
    from salesprep_bench.limits import run_activity_weekly

    compare = args.get("compare_with")
    return run_activity_weekly(
        Path(args["raw_root"]),
        Week.parse(args["week"]),
        args["org_timezone"],
        compare_with=Path(compare) if compare else None,
    )


def csv_parse_limit(args: Args) -> dict[str, Any]:
    from salesprep_bench.limits import pyarrow_csv_parse

    return pyarrow_csv_parse(
        args["base_url"], args["username"], args["password"], args["token"], Path(args["out_dir"])
    )


def render(args: Args) -> dict[str, Any]:
    result = pipeline_step({**args, "step": "render_packets"})
    packets = int(result["summary"].get("packets", 0))
    result["packets_per_second"] = packets / result["seconds"] if result["seconds"] else None
    return result


def peer_simple_salesforce(args: Args) -> dict[str, Any]:
    from salesprep_bench.peers import simple_salesforce_to_parquet

    return simple_salesforce_to_parquet(
        args["base_url"], args["username"], args["password"], args["token"], Path(args["out_dir"])
    )


def peer_simple_salesforce_bulk2(args: Args) -> dict[str, Any]:
    from salesprep_bench.peers import simple_salesforce_bulk2_download

    return simple_salesforce_bulk2_download(
        args["base_url"], args["username"], args["password"], args["token"], Path(args["out_dir"])
    )


def peer_simple_salesforce_iter(args: Args) -> dict[str, Any]:
    from salesprep_bench.peers import simple_salesforce_query_all_iter_parquet

    return simple_salesforce_query_all_iter_parquet(
        args["base_url"], args["username"], args["password"], args["token"], Path(args["out_dir"])
    )


def peer_airflow_hook(args: Args) -> dict[str, Any]:
    from salesprep_bench.peers import airflow_hook_to_csv

    return airflow_hook_to_csv(args["base_url"], Path(args["out_dir"]), args["conn_id"])


STEPS: dict[str, Callable[[Args], dict[str, Any]]] = {
    "generate": generate,
    "pipeline": pipeline_step,
    "build": build,
    "load_postgres": load_postgres,
    "hand_query": hand_query,
    "csv_parse_limit": csv_parse_limit,
    "render": render,
    "peer_simple_salesforce": peer_simple_salesforce,
    "peer_simple_salesforce_bulk2": peer_simple_salesforce_bulk2,
    "peer_simple_salesforce_iter": peer_simple_salesforce_iter,
    "peer_airflow_hook": peer_airflow_hook,
}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in STEPS:
        print(f"usage: STEP ARGS.json RESULT.json; steps: {', '.join(STEPS)}", file=sys.stderr)
        return 2
    name, args_path, result_path = argv
    args = json.loads(Path(args_path).read_text(encoding="utf-8"))
    result = STEPS[name](args)
    result[PEAK_KEY] = vm_hwm_bytes()
    Path(result_path).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sys.exit(main(sys.argv[1:]))
