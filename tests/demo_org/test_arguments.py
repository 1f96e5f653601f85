"""Arguments: bad ones are refused with a message naming them; a rerun replaces the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesprep.catalog import objects_for
from salesprep.demo_org import DemoOrgError, generate_org
from salesprep.weeks import Week

END = Week.parse("2026-W10")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"reps": 3, "managers": 3}, "reps"),
        ({"reps": 5, "managers": 0}, "managers"),
        ({"weeks": 0}, "weeks"),
        ({"weeks": 10_000}, "weeks"),
        ({"end_week": "2026-W10"}, "end_week"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, args: dict[str, object], named: str
) -> None:
    out = tmp_path / "org"
    with pytest.raises(DemoOrgError, match=named):
        generate_org(out, **{"end_week": END, **args})  # type: ignore[arg-type]
    assert not out.exists()


def test_a_rerun_replaces_every_file_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "org"
    first = generate_org(out, reps=3, managers=1, weeks=2, seed=1, end_week=END)
    (out / "Task.csv").write_text("stale", encoding="utf-8")
    second = generate_org(out, reps=3, managers=1, weeks=2, seed=1, end_week=END)
    assert first.rows == second.rows
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{o.name}.csv" for o in objects_for())
    assert (out / "Task.csv").read_text(encoding="utf-8").startswith("Id,OwnerId,")


def test_summary_names_the_window(tmp_path: Path) -> None:
    summary = generate_org(tmp_path / "org", reps=3, managers=1, weeks=5, seed=1, end_week=END)
    assert summary.end_week == END
    assert summary.first_week == Week.parse("2026-W06")
    assert summary.pairs == 2
    assert "2026-W06..2026-W10" in summary.describe()
    assert set(summary.rows) == {o.name for o in objects_for()}


def test_generate_org_command_line_builds_the_shape(tmp_path: Path, capsys) -> None:
    from salesprep.cli import main

    out = tmp_path / "org"
    common = ["--reps", "3", "--managers", "1", "--weeks", "4", "--end-week", "2026-W10"]
    shape = ["--international", "--currency-without-rate", "chf", "--custom-fiscal-year"]
    code = main(["generate-org", str(out), *common, *shape, "--no-meetings"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "EUR (corporate), USD, GBP, JPY with dated rates" in printed
    assert "CHF without a rate" in printed and "custom 4-4-5 fiscal year from month 2" in printed
    names = {p.name for p in out.iterdir()}
    assert {"CurrencyType.csv", "DatedConversionRate.csv", "Period.csv", "RecordType.csv"} <= names
    assert (out / "Event.csv").read_text(encoding="utf-8").count("\n") == 1  # the header only
    organization = (out / "Organization.csv").read_text(encoding="utf-8").splitlines()[1]
    assert ",2,false,de_DE," in organization

    code = main(["generate-org", str(tmp_path / "bad"), *common, "--dated-rates"])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        "salesprep generate-org: error: dated rates need a multi-currency org: give "
        "--currencies A,B,..."
    ]
    assert not (tmp_path / "bad").exists()
