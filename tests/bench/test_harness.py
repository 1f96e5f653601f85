"""The benchmark harness at a tiny size: steps run in child processes with their own peak RSS,
the emulator process counts every client alike, the hand-written query and the report work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salesprep.emulator import Credentials
from salesprep_bench.__main__ import main
from salesprep_bench.child import BenchStepError, ChildRun, run_step
from salesprep_bench.report import write_results
from salesprep_bench.server import serving
from salesprep_bench.sizes import END_WEEK, UnknownSizeError, get_size
from salesprep_bench.suite import Bench, Options, Samples, _child_env, _conn_env

SIZE = get_size("XS")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One tiny org, generated, served by the benchmark's emulator process, extracted by
    salesprep and by the simple-salesforce peer, each in a child process."""
    work = tmp_path_factory.mktemp("bench")
    env = _child_env(work, "salesprep_bench_test_unused")
    org = work / "org"
    generate = run_step(
        "generate",
        "generate",
        {
            "out_dir": str(org),
            "reps": SIZE.reps,
            "managers": SIZE.managers,
            "weeks": SIZE.weeks,
            "seed": SIZE.seed,
            "end_week": END_WEEK.label,
        },
        env=env,
        work_dir=work / "logs",
    )
    data = work / "data"
    with serving(org, work / "emulator", env=env, log_path=work / "emulator.log") as server:
        server.reset()
        extract = run_step(
            "extract",
            "pipeline",
            {
                "week": END_WEEK.label,
                "step": "extract",
                "settings": {
                    "data_dir": str(data),
                    "salesforce": {"query_method": "rest", "extract_mode": "full"},
                },
            },
            env={**env, **_conn_env(server.base_url)},
            work_dir=work / "logs",
        )
        extract_stats = server.stats()
        server.reset()
        creds = Credentials()
        peer = run_step(
            "peer",
            "peer_simple_salesforce",
            {
                "base_url": server.base_url,
                "username": creds.username,
                "password": creds.password,
                "token": creds.security_token,
                "out_dir": str(work / "peer"),
            },
            env=env,
            work_dir=work / "logs",
        )
        peer_stats = server.stats()
        server_rss = server.peak_rss_bytes()
    hand = run_step(
        "hand",
        "hand_query",
        {"raw_root": str(data / "raw"), "week": END_WEEK.label, "org_timezone": "UTC"},
        env=env,
        work_dir=work / "logs",
    )
    return {
        "work": work,
        "env": env,
        "generate": generate,
        "extract": extract,
        "extract_stats": extract_stats,
        "peer": peer,
        "peer_stats": peer_stats,
        "server_rss": server_rss,
        "hand": hand,
    }


def test_child_steps_report_their_own_time_and_memory(bench: dict) -> None:
    for name in ("generate", "extract", "peer", "hand"):
        run = bench[name]
        assert run.wall_seconds > 0, name
        assert 0 < run.inner_seconds <= run.wall_seconds, name
        # A Python process with pyarrow/duckdb loaded is tens of MiB at least.
        assert 20 * 2**20 < run.peak_rss_bytes < 4 * 2**30, name
    assert bench["generate"].result["total_rows"] == sum(bench["generate"].result["rows"].values())


def test_server_counts_each_client_on_the_same_scale(bench: dict) -> None:
    rows = bench["generate"].result["total_rows"]
    assert bench["extract"].result["summary"]["rows"] == rows
    assert bench["peer"].result["rows"] == rows
    for stats in (bench["extract_stats"], bench["peer_stats"]):
        assert stats["api_calls"] > 0
        assert stats["response_bytes"] > 1000
        assert stats["requests"].get("login") == 1
        # Forced REST (and the peer) never create Bulk jobs.
        assert stats["bulk_jobs_created"] == 0
    assert bench["server_rss"] and bench["server_rss"] > 20 * 2**20


def test_hand_query_gives_one_row_per_rep_and_week(bench: dict) -> None:
    pairs = bench["generate"].result["pairs"]
    # The generator dates everything inside the window, so every week has data.
    assert bench["hand"].result["rows"] == pairs * SIZE.weeks


def test_failed_step_names_itself_and_shows_the_error(bench: dict) -> None:
    with pytest.raises(BenchStepError, match=r"benchmark step broken failed[\s\S]*reps must"):
        run_step(
            "broken",
            "generate",
            {
                "out_dir": str(bench["work"] / "broken"),
                "reps": 1,
                "managers": 1,
                "weeks": 2,
                "seed": 1,
                "end_week": END_WEEK.label,
            },
            env=bench["env"],
            work_dir=bench["work"] / "logs",
        )


def test_report_has_rates_ratios_and_targets(bench: dict, tmp_path: Path) -> None:
    extract, peer = Samples(), Samples()
    extract.add(bench["extract"], bench["extract_stats"])
    peer.add(bench["peer"], bench["peer_stats"])
    results = {
        "size": SIZE.to_dict(),
        "machine": {
            "cores": 2,
            "usable_cores": 2,
            "memory_bytes": 2**33,
            "cpu_model": "test",
            "load_average_at_start": [0.5, 0.5, 0.5],
        },
        "started_at": "2026-01-01T00:00:00+00:00",
        "total_seconds": 1.0,
        "options": {"runs": 1},
        "measurements": {
            "extract_rest": extract.summary(),
            "peer_simple_salesforce_query_all_pandas_parquet": peer.summary(),
        },
        "extra": {
            "growth": [
                {
                    "history_weeks": w,
                    "reps": 6,
                    "raw_rows": 100 * w,
                    "full_build_seconds": 1.0 * w,
                    "weekly_build_seconds": 1.0,
                    "incremental_models": [],
                }
                for w in (4, 8)
            ]
        },
        "notes": ["a note"],
    }
    paths = write_results(results, tmp_path, "2026-01-01-XS")
    data = json.loads(paths["json"].read_text())
    rates = data["derived"]["records_per_second"]
    rows = bench["generate"].result["total_rows"]
    assert rates["extract_rest"] == pytest.approx(rows / bench["extract"].inner_seconds)
    peer_rate = rates["peer_simple_salesforce_query_all_pandas_parquet"]
    ratio = data["derived"]["ratios"]["extraction_ours_best_vs_best_peer_speed"]
    assert ratio == pytest.approx(rates["extract_rest"] / peer_rate)
    text = paths["md"].read_text()
    assert "| extract_rest |" in text and "a note" in text
    assert "2026-01-01-XS-growth.svg" in text
    assert paths["svg"].read_text().lstrip().startswith("<?xml")


def test_unknown_size_is_refused() -> None:
    with pytest.raises(UnknownSizeError, match=r"XXL.*S, M, L"):
        get_size("XXL")
    assert main(["--size", "XXL"]) == 2


def test_in_memory_peers_are_skipped_with_a_reason_when_they_cannot_fit(tmp_path: Path) -> None:
    bench = Bench(SIZE, tmp_path, Options(runs=1))
    generated = bench._sample("generate")
    generated.add(ChildRun("generate", 1.0, 1.0, 0, {"total_rows": 60_000}))
    assert bench._in_memory_peers_fit()
    assert not bench.notes
    # About 2 KiB per record: a billion records never fit a development machine.
    generated.add(ChildRun("generate", 1.0, 1.0, 0, {"total_rows": 1_000_000_000}))
    assert not bench._in_memory_peers_fit()
    (note,) = bench.notes
    assert "query_all" in note and "1,000,000,000 records" in note and "GiB" in note
