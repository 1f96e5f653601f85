"""The dbt project compiles for Snowflake and BigQuery, and the SQL it compiles to is theirs,
not DuckDB's or Postgres's (docs/deploy.md, "What CI runs and what it only compiles").

Neither warehouse is reachable here, so nothing is run on them: `offline_compile.py` compiles
every model with the real dbt-snowflake and dbt-bigquery adapters and the project's own
profiles (dummy credentials, no connection), once as a first build and once as a weekly
incremental run. Each compiled model must then
- parse in the adapter's dialect (sqlglot), and
- use none of the DuckDB- or Postgres-only functions and syntax listed below,
and the models that go through the project's dispatched macros must show the adapter's form.
A canary model planted in the copy of the project uses a DuckDB-only function directly: the
checks must flag it, which is what they would do to such SQL in a real model.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot

from salesprep.dbt_project import CHECKOUT_PROJECT_DIR

pytestmark = pytest.mark.slow

ADAPTERS = ("snowflake", "bigquery")
MODES = ("first", "weekly")
CANARY = "cross_database_canary"
# A DuckDB-only function used directly, as a model written against DuckDB alone would.
CANARY_SQL = "select strftime(current_date, '%G-W%V') as week\n"

# The profiles' variables for a compile without a connection (dbt_project/profiles.yml): the
# adapters build credentials from them but never connect.
COMPILE_ENV = {
    "SALESPREP_DBT_SNOWFLAKE_ACCOUNT": "compile-only",
    "SALESPREP_DBT_SNOWFLAKE_USER": "compile-only",
    "SALESPREP_DBT_SNOWFLAKE_PASSWORD": "compile-only",
    "SALESPREP_DBT_SNOWFLAKE_ROLE": "compile-only",
    "SALESPREP_DBT_SNOWFLAKE_WAREHOUSE": "compile-only",
    "SALESPREP_DBT_BIGQUERY_METHOD": "oauth-secrets",
    "SALESPREP_DBT_BIGQUERY_TOKEN": "compile-only",
    "SALESPREP_DBT_BIGQUERY_PROJECT": "compile-only",
    "SALESPREP_DBT_WEEK": "2026-W10",
}


@dataclass(frozen=True)
class Rule:
    """SQL that only DuckDB or Postgres accept (or that means something else on `adapters`)."""

    pattern: str
    why: str
    adapters: tuple[str, ...] = ADAPTERS


RULES = (
    Rule(r"\bstrftime\s*\(", "strftime is DuckDB's (iso_week_label dispatches)"),
    Rule(r"\bquantile_cont\s*\(", "quantile_cont is DuckDB's (percentile_cont dispatches)"),
    Rule(r"\bgenerate_series\s*\(", "generate_series: int_series_join / date_series_join"),
    Rule(r"\bunnest\s*\(\s*generate_series", "a set-returning select-list function"),
    Rule(r"\btimezone\s*\(", "timezone() is DuckDB's (to_org_time dispatches)"),
    Rule(r"\bat\s+time\s+zone\b", "AT TIME ZONE is Postgres's (to_org_time dispatches)"),
    Rule(r"\bextract\s*\(\s*epoch\b", "extract(epoch ...) (deals_epoch dispatches)"),
    Rule(r"\bdate_diff\s*\(\s*'", "date_diff('part', ...) is DuckDB's (dbt.datediff)"),
    Rule(r"\bbool_or\s*\(", "bool_or: dbt.bool_or"),
    Rule(r"\bbool_and\s*\(", "bool_and: dbt.bool_and"),
    Rule(r"\bread_parquet\s*\(", "read_parquet is DuckDB's"),
    Rule(r"\blist_\w+\s*\(", "list functions are DuckDB's"),
    Rule(r"'\s*\)\s*~\s*'|\s~\*?\s*'", "the ~ regex operator is Postgres's"),
    Rule(r"::\s*\w", ":: casts are Postgres's and DuckDB's", ("bigquery",)),
    Rule(r"'IYYY|IYYY-", "to_char's ISO-year pattern is Postgres's (iso_week_label)"),
    Rule(r"\bwindow\s+\w+\s+as\s*\(", "Snowflake has no WINDOW clause", ("snowflake",)),
    Rule(r"regexp_replace\s*\((?:[^()]|\([^()]*\))*,\s*'g'\s*\)", "the 'g' flag is Postgres's"),
    Rule(
        r"\bconcat_ws\s*\(", "concat_ws: Snowflake's returns null on a null part, BigQuery has none"
    ),
    Rule(r"\bstring_agg\s*\(", "string_agg: dbt.listagg", ("snowflake",)),
    Rule(r"\btry_cast\s*\(", "try_cast: dbt.safe_cast", ("bigquery",)),
    Rule(r"\bas\s+varchar\b", "BigQuery's text type is string (text_type)", ("bigquery",)),
    Rule(r"\bdouble\s+precision\b", "BigQuery's double is float64 (double_type)", ("bigquery",)),
    Rule(r"\binterval\s+'", "BigQuery's intervals are INTERVAL n DAY", ("bigquery",)),
    Rule(r"\bdate_trunc\s*\(\s*'", "BigQuery's date_trunc takes the part second", ("bigquery",)),
    Rule(r"\bwithin\s+group\b", "BigQuery's percentile_cont is a window function", ("bigquery",)),
    Rule(r"\bunion\s+(?!all\b|distinct\b)", "BigQuery needs UNION ALL or DISTINCT", ("bigquery",)),
)

# Models whose SQL goes through a dispatched macro, and what the adapter's version writes.
DISPATCHED = {
    "snowflake": {
        "int_weeks_enumerated": ("yearofweekiso(", "array_generate_range("),
        "stg_salesforce__opportunities": ("convert_timezone(",),
        "int_opportunity_states_sampled_weekly": ("lateral flatten(",),
        "int_learnings_matched": ("listagg(", "boolor_agg("),
        "int_stage_runs_timed": ("date_part(epoch_microsecond",),
    },
    "bigquery": {
        "int_weeks_enumerated": ("format_date('%G-W%V'", "generate_date_array("),
        "stg_salesforce__opportunities": ("datetime(", "as string)"),
        "int_opportunity_states_sampled_weekly": ("unnest(generate_array(",),
        "int_learnings_matched": ("logical_or(",),
        "int_rep_activities_benchmarked": ("array_agg(", "float64"),
        "int_learnings_explained": ("array_to_string([", "pair\\'s"),
        "int_stage_runs_timed": ("unix_micros(",),
    },
}


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", re.sub(r"/\*.*?\*/", "", sql, flags=re.DOTALL))


def violations(sql: str, adapter: str) -> list[str]:
    """What in `sql` (compiled for `adapter`) only DuckDB or Postgres accept."""
    code = _without_comments(sql).lower()
    found = []
    for rule in RULES:
        if adapter not in rule.adapters:
            continue
        for match in re.finditer(rule.pattern, code):
            line = code.count("\n", 0, match.start()) + 1
            found.append(f"line {line}: {match.group(0).strip()!r}: {rule.why}")
    return found


def parse_error(sql: str, adapter: str) -> str | None:
    try:
        sqlglot.parse(sql, read=adapter, error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        return str(exc).splitlines()[0]
    return None


@dataclass(frozen=True)
class Compiled:
    adapter: str
    root: Path

    def models(self, mode: str) -> dict[str, str]:
        folder = self.root / f"compiled-{mode}" / "salesprep" / "models"
        return {path.stem: path.read_text("utf-8") for path in sorted(folder.rglob("*.sql"))}


def _copy_project(destination: Path) -> Path:
    shutil.copytree(
        CHECKOUT_PROJECT_DIR,
        destination,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    (destination / "models" / f"{CANARY}.sql").write_text(CANARY_SQL, encoding="utf-8")
    return destination


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_project(tmp_path_factory.mktemp("cross-database") / "dbt_project")


def adapters_python() -> Path:
    """The interpreter of the compile-only adapters' own environment (`make adapters`): their
    pins must not hold back the runtime lock, so they are not in the project's venv."""
    python = CHECKOUT_PROJECT_DIR.parent / ".venv-adapters" / "bin" / "python"
    if not python.is_file():
        pytest.fail(
            f"no Snowflake/BigQuery adapters environment at {python.parent.parent.name}: "
            "run `make adapters` (`make test` does)"
        )
    return python


@pytest.fixture(scope="module", params=ADAPTERS)
def compiled(request: pytest.FixtureRequest, project_copy: Path) -> Compiled:
    adapter = request.param
    target_path = project_copy.parent / f"target-{adapter}"
    env = {**os.environ, **COMPILE_ENV}
    run = subprocess.run(
        [
            str(adapters_python()),
            str(Path(__file__).with_name("offline_compile.py")),
            str(project_copy),
            str(project_copy),  # the project's own profiles.yml
            adapter,
            str(target_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, f"{adapter} compile failed:\n{run.stdout[-4000:]}\n{run.stderr}"
    return Compiled(adapter=adapter, root=target_path)


@pytest.mark.parametrize("mode", MODES)
def test_every_model_compiles(compiled: Compiled, mode: str) -> None:
    models = compiled.models(mode)
    expected = {path.stem for path in (CHECKOUT_PROJECT_DIR / "models").rglob("*.sql")}
    assert expected | {CANARY} == set(models)


@pytest.mark.parametrize("mode", MODES)
def test_compiled_sql_parses_in_the_adapters_dialect(compiled: Compiled, mode: str) -> None:
    errors = {
        name: error
        for name, sql in compiled.models(mode).items()
        if (error := parse_error(sql, compiled.adapter))
    }
    assert not errors, f"{compiled.adapter} ({mode}): {errors}"


@pytest.mark.parametrize("mode", MODES)
def test_no_duckdb_or_postgres_only_sql(compiled: Compiled, mode: str) -> None:
    found = {
        name: problems
        for name, sql in compiled.models(mode).items()
        if name != CANARY and (problems := violations(sql, compiled.adapter))
    }
    assert not found, "\n".join(
        f"{compiled.adapter} ({mode}) {name}: {problem}"
        for name, problems in found.items()
        for problem in problems
    )


def test_a_duckdb_only_function_in_a_model_is_caught(compiled: Compiled) -> None:
    """The canary compiles (dbt does not know SQL functions), and the check names it."""
    canary = compiled.models("first")[CANARY]
    assert "strftime(" in canary
    assert violations(canary, compiled.adapter) == [
        "line 1: 'strftime(': strftime is DuckDB's (iso_week_label dispatches)"
    ]


def test_dispatch_picks_the_adapters_macros(compiled: Compiled) -> None:
    models = compiled.models("first")
    for model, forms in DISPATCHED[compiled.adapter].items():
        sql = models[model].lower()
        for form in forms:
            assert form.lower() in sql, f"{compiled.adapter} {model} lacks {form}"


def test_the_weekly_run_compiles_the_build_window(compiled: Compiled) -> None:
    """In the weekly mode the incremental models exist, so their window predicates compile:
    the two modes compile different SQL, and both are checked."""
    first = compiled.models("first")["fct_rep_activity_weekly"]
    weekly = compiled.models("weekly")["fct_rep_activity_weekly"]
    assert "'2026-W06'" not in first
    assert "'2026-W06'" in weekly  # SALESPREP_DBT_WEEK 2026-W10 minus 4 lookback weeks
