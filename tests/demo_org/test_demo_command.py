"""`salesprep demo --international`: the demo generates the international org shape in its own
folder, and drops the history of another org it finds in its data directory."""

from __future__ import annotations

from pathlib import Path

from salesprep.cli import build_parser
from salesprep.cli.demo import default_dir, prepare_demo_org
from salesprep.config import Settings
from salesprep.warehouse.history import record_org, recorded_org
from salesprep.weeks import Week

WEEK = Week.parse("2026-W20")


def test_the_demo_option_and_its_folder() -> None:
    args = build_parser().parse_args(["demo", "--international", "--runs", "2"])
    assert args.international is True and args.dir is None and args.runs == 2
    assert default_dir(True) == Path("demo-international") and default_dir(False) == Path("demo")
    assert build_parser().parse_args(["demo"]).international is False


def test_the_international_demo_org_replaces_another_orgs_history(tmp_path: Path, capsys) -> None:
    settings = Settings(data_dir=tmp_path / "data", shared_folder=str(tmp_path / "shared"))
    build = settings.build_warehouse_path
    build.parent.mkdir(parents=True)
    build.write_text("the default demo org's marts", encoding="utf-8")
    record_org(settings, "00D8d0000000007AAA", "salesprep demo org")

    summary = prepare_demo_org(
        tmp_path, reps=3, managers=1, weeks=4, last_week=WEEK, international=True
    )

    assert "multi_currency" in summary.shape.features and summary.shape.monthly_quotas
    assert (tmp_path / "org" / "DatedConversionRate.csv").is_file()
    assert not build.exists() and recorded_org(settings) is None
    assert "held the history of another org (00D8d0000000007AAA" in capsys.readouterr().out

    # The same org again (a later demo run): its history stays.
    record_org(settings, summary.org_id, "salesprep demo org")
    build.write_text("the international demo org's marts", encoding="utf-8")
    prepare_demo_org(tmp_path, reps=3, managers=1, weeks=4, last_week=WEEK, international=True)
    assert build.is_file() and "held the history" not in capsys.readouterr().out
