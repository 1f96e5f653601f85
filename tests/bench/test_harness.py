"""The benchmark harness at a tiny size: steps run in child processes with their own peak RSS,
the emulator process counts every client alike, the hand-written query and the report work."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from salesprep.emulator import Credentials
from salesprep_bench.__main__ import main
from salesprep_bench.child import BenchStepError, ChildRun, run_step
from salesprep_bench.report import PARSE_LIMIT, write_results
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
        streaming = {}
        for step in ("peer_simple_salesforce_bulk2", "peer_simple_salesforce_iter"):
            server.reset()
            run = run_step(
                step,
                step,
                {
                    "base_url": server.base_url,
                    "username": creds.username,
                    "password": creds.password,
                    "token": creds.security_token,
                    "out_dir": str(work / step),
                },
                env=env,
                work_dir=work / "logs",
            )
            streaming[step] = (run, server.stats())
        parse = run_step(
            "parse",
            "csv_parse_limit",
            {
                "base_url": server.base_url,
                "username": creds.username,
                "password": creds.password,
                "token": creds.security_token,
                "out_dir": str(work / "csv-parse"),
            },
            env=env,
            work_dir=work / "logs",
        )
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
        "streaming": streaming,
        "server_rss": server_rss,
        "hand": hand,
        "parse": parse,
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
        # The emulator's own CPU while the client ran, apart from the client's.
        assert stats["cpu_seconds"] > 0
        assert stats["response_bytes"] > 1000
        assert stats["requests"].get("login") == 1
        # Forced REST (and the peer) never create Bulk jobs.
        assert stats["bulk_jobs_created"] == 0
    assert bench["server_rss"] and bench["server_rss"] > 20 * 2**20


def _soft_deleted_rows(raw_root: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        return con.execute(
            f"select count(*) from read_parquet('{raw_root}/*/*.parquet', union_by_name = true) "
            "where IsDeleted"
        ).fetchone()[0]
    finally:
        con.close()


def test_simple_salesforce_streaming_peers_land_every_object_in_parquet(bench: dict) -> None:
    import pyarrow.parquet as pq

    rows = bench["generate"].result["total_rows"]
    soft_deleted = _soft_deleted_rows(bench["work"] / "data" / "raw")
    assert soft_deleted > 0
    iter_run, iter_stats = bench["streaming"]["peer_simple_salesforce_iter"]
    # REST queryAll: every record, deleted ones included, and no Bulk job.
    assert iter_run.result["rows"] == rows
    assert iter_stats["bulk_jobs_created"] == 0 and iter_stats["requests"].get("query")
    bulk_run, bulk_stats = bench["streaming"]["peer_simple_salesforce_bulk2"]
    # `bulk2.<Object>.download` runs `query` jobs: soft-deleted rows are not returned.
    assert bulk_run.result["rows"] == rows - soft_deleted
    objects = len(bench["generate"].result["rows"])
    assert bulk_stats["bulk_jobs_created"] == objects
    assert bulk_run.result["csv_files"] >= objects
    out = bench["work"] / "peer_simple_salesforce_bulk2"
    landed = sum(pq.read_metadata(p).num_rows for p in out.glob("*.parquet"))
    assert landed == bulk_run.result["rows"]
    task = pq.read_schema(out / "Task.parquet")
    assert str(task.field("CreatedDate").type) == "timestamp[us, tz=UTC]"


def test_next_week_org_repeats_the_last_week_under_new_ids(bench: dict, tmp_path: Path) -> None:
    import duckdb

    from salesprep_bench.next_week import write_next_week_org

    org = bench["work"] / "org"
    stamp = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    changes = write_next_week_org(org, tmp_path / "next", END_WEEK, now=stamp)
    assert changes.week == END_WEEK.shift(1).label
    assert changes.created["Task"] > 0 and changes.created["Opportunity"] > 0
    con = duckdb.connect()

    def read(folder: Path, name: str) -> str:
        return f"read_csv('{folder / name}.csv', all_varchar = true)"

    for name, created in changes.created.items():
        before = con.execute(f"select count(*) from {read(org, name)}").fetchone()[0]
        after, ids = con.execute(
            f"select count(*), count(distinct Id) from {read(tmp_path / 'next', name)}"
        ).fetchone()
        assert after == ids == before + created, name
    clones = con.execute(
        f"select ActivityDate, SystemModstamp, WhatId from {read(tmp_path / 'next', 'Task')} "
        "where substr(Id, 4, 3) = '8d1'"
    ).fetchall()
    assert len(clones) == changes.created["Task"]
    assert all(r[1] == "2026-12-01T09:30:00.000Z" for r in clones)
    # Every date moved seven days: the week's Tasks, a week later.
    start, end = END_WEEK.start().strftime("%Y-%m-%d"), END_WEEK.end().strftime("%Y-%m-%d")
    originals = con.execute(
        f"select ActivityDate from {read(org, 'Task')} "
        f"where CreatedDate >= '{start}' and CreatedDate < '{end}'"
    ).fetchall()
    shifted = sorted(
        (date.fromisoformat(r[0]) + timedelta(days=7)).isoformat() for r in originals if r[0]
    )
    assert shifted and shifted == sorted(r[0] for r in clones if r[0])
    # Tasks on an Opportunity created the same week point to that Opportunity's clone.
    opportunity_ids = {
        r[0]
        for r in con.execute(f"select Id from {read(tmp_path / 'next', 'Opportunity')}").fetchall()
    }
    assert all(r[2] in opportunity_ids for r in clones if r[2] and r[2].startswith("006"))
    # Users, quotas and setup do not change.
    assert (tmp_path / "next" / "User.csv").read_bytes() == (org / "User.csv").read_bytes()


def test_client_cpu_is_measured_inside_the_step(bench: dict) -> None:
    for name in ("extract", "peer"):
        run = bench[name]
        # Every thread's CPU for the work, without starting Python and the imports.
        assert 0 < run.result["step_cpu_seconds"] < run.cpu_seconds, name


def test_pyarrow_parses_the_bulk_csv_of_every_record(bench: dict) -> None:
    parse = bench["parse"].result
    # queryAll jobs: every record, soft-deleted ones included, as salesprep's Bulk path reads.
    assert parse["rows"] == bench["generate"].result["total_rows"]
    assert parse["slices"] >= len(bench["generate"].result["rows"])
    assert parse["csv_bytes"] > 1000 and parse["step_cpu_seconds"] > 0
    assert not list((bench["work"] / "csv-parse").iterdir())  # each slice removed once parsed


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


def _run_envelope() -> dict:
    """What every bench result holds besides its measurements: the size, a 2-core machine,
    when and how it ran."""
    return {
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
    }


def test_report_has_rates_ratios_and_targets(bench: dict, tmp_path: Path) -> None:
    extract, peer, parse = Samples(), Samples(), Samples()
    extract.add(bench["extract"], bench["extract_stats"])
    peer.add(bench["peer"], bench["peer_stats"])
    parse.add(bench["parse"])
    results = {
        **_run_envelope(),
        "measurements": {
            "extract_rest": extract.summary(),
            # The REST run stands in for the forced Bulk one: the report's arithmetic is tested.
            "extract_bulk": extract.summary(),
            "peer_simple_salesforce_query_all_pandas_parquet": peer.summary(),
            PARSE_LIMIT: parse.summary(),
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
    backfill = data["derived"]["ratios"]["backfill_bulk_client_cpu_vs_pyarrow_parse"]
    assert backfill == pytest.approx(
        bench["extract"].result["step_cpu_seconds"] / bench["parse"].result["step_cpu_seconds"]
    )
    (target,) = [t for t in data["derived"]["targets"] if "pyarrow's parse" in t["target"]]
    assert target["value"] == backfill and target["met"] == (backfill <= 3)
    text = paths["md"].read_text()
    assert "| extract_rest |" in text and "a note" in text
    emulator_cpu = f"| {bench['extract_stats']['cpu_seconds']:,.2f} |"
    assert emulator_cpu in text and "The client's limit: pyarrow parses" in text
    assert "2026-01-01-XS-growth.svg" in text
    assert paths["svg"].read_text().lstrip().startswith("<?xml")


def test_unknown_size_is_refused() -> None:
    with pytest.raises(UnknownSizeError, match=r"XXL.*S, M, L"):
        get_size("XXL")
    assert main(["--size", "XXL"]) == 2


def test_unknown_group_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "XS", "--only", "peers,everything"]) == 2
    assert "unknown --only group(s) everything" in capsys.readouterr().err


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


def _published_week(root: Path, packet: bytes, quality: bytes, stamp: str) -> Path:
    week = root / "shared" / "2026-W11"
    (week / "quality").mkdir(parents=True)
    (week / "ana").mkdir()
    (week / "ana" / "rep.json").write_bytes(packet)
    (week / "ana" / "rep.md").write_bytes(b"# rep\n")
    (week / "quality" / "index.html").write_bytes(quality)
    manifest = {"published_at": stamp, "packets": [{"rep_id": "005A", "paths": {}}]}
    (week / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return week


def test_published_weeks_are_compared_byte_for_byte_but_their_build_report(tmp_path: Path) -> None:
    from salesprep_bench.suite import compare_published_weeks, describe_difference

    duck = _published_week(tmp_path / "duckdb", b'{"a": 1}', b"duckdb docs", "10:00")
    pg = _published_week(tmp_path / "postgres", b'{"a": 1}', b"postgres docs", "10:05")
    # The week's quality report (here with pages only one run's checkpoint wrote) and the
    # manifest's own fields are the build's, not the packets'.
    (pg / "quality" / "marts.html").write_bytes(b"checked")
    same = compare_published_weeks(duck, pg)
    assert same["same"] and same["files_compared"] == 2 and same["packets"] == 1
    (pg / "ana" / "rep.json").write_bytes(b'{"a": 2}')
    (pg / "ana" / "extra.md").write_bytes(b"more")
    differs = compare_published_weeks(duck, pg)
    assert not differs["same"]
    assert differs["different"] == ["ana/rep.json"]
    assert differs["only_postgres"] == ["ana/extra.md"]
    assert "ana/rep.json" in describe_difference(differs)
    # Nothing published on one side is a difference, not an empty match.
    missing = compare_published_weeks(duck, tmp_path / "nowhere")
    assert not missing["same"] and missing["only_duckdb"]


def test_report_sets_the_weekly_run_on_postgres_beside_duckdb(tmp_path: Path) -> None:
    from salesprep_bench.report import WEEKLY_STEPS

    measurements = {}
    for prefix, factor in (("weekly_", 1.0), ("weekly_postgres_", 2.0)):
        runs = []
        for index, step in enumerate(WEEKLY_STEPS, start=1):
            run = ChildRun(step, index * factor, index * factor, 2**27, {"seconds": index})
            sample = Samples()
            sample.add(run)
            measurements[f"{prefix}{step}"] = sample.summary()
            runs.append(run)
        total = Samples()
        total.add(ChildRun("total", 40.0 * factor, 1.0, 2**28, {"seconds": 36.0 * factor}))
        name = "weekly_end_to_end" if prefix == "weekly_" else "weekly_end_to_end_postgres"
        measurements[name] = total.summary()
    prepared = Samples()
    prepared.add(ChildRun("prep", 9.0, 8.0, 2**27, {"seconds": 7.0}))
    measurements["weekly_postgres_prepare_build_marts"] = prepared.summary()
    compared = {
        "week": "2026-W11",
        "files_compared": 60,
        "packets": 6,
        "same": False,
        "different": ["ana/rep.json"],
        "only_duckdb": [],
        "only_postgres": [],
        "manifest_packets_same": True,
    }
    results = {
        **_run_envelope(),
        "measurements": measurements,
        "extra": {
            "next_week_changes": {"week": "2026-W11", "changed_rows": 123},
            # Two repetitions: each sentence once.
            "postgres_packets_compared": [{**compared, "week": "2026-W10", "same": True}, compared]
            * 2,
        },
        "notes": [],
    }
    paths = write_results(results, tmp_path, "2026-01-01-XS")
    ratios = json.loads(paths["json"].read_text())["derived"]["ratios"]
    assert ratios["postgres_vs_duckdb_weekly_end_to_end"] == pytest.approx(2.0)
    assert ratios["postgres_vs_duckdb_weekly_end_to_end_step_seconds"] == pytest.approx(2.0)
    text = paths["md"].read_text()
    # One row per step, DuckDB and Postgres side by side with their ratio.
    assert "| build_marts | 5.00 | 5.00 | 128 | 10.00 | 5.00 | 128 | 2.00 |" in text
    assert "| **end to end** | 40.00 | 36.00 | 256 | 80.00 | 72.00 | 256 | 2.00 |" in text
    assert "build_marts 9.00 s wall (7.00 s step)" in text
    assert "Packets of 2026-W10: the Postgres run published the same bytes" in text
    assert text.count("**Packets of 2026-W11 differ between Postgres and DuckDB**") == 1
    assert "- postgres_vs_duckdb_weekly_end_to_end: 2" in text
