"""The marts checkpoint: Great Expectations checks on the built warehouse before it is published.

dbt's own tests guard keys, relationships and accepted values model by model; this gate looks at
the week as BI and the packets will see it. It blocks the publication when a pair lacks its rep
or any of its weekly rows, a money or ratio column is negative, or a per-pair mart's row count
for the week jumps away from the weeks before; deal-level counts outside those bounds only warn.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from salesprep.quality.gx import (
    Check,
    Dataset,
    QualityError,
    QualityResult,
    raise_for_failures,
    run_checkpoints,
)
from salesprep.quality.pair_coverage import (
    UNPAIRED_FILE,
    UnpairedUser,
    current_pairs,
    published_pairs,
    unpaired_users,
)
from salesprep.runs.atomic_swap import write_text_atomic
from salesprep.warehouse.connection import DuckDBMarts, Marts, WarehouseReadError

if TYPE_CHECKING:
    import pandas as pd

    from salesprep.config import Settings
    from salesprep.weeks import Week

log = logging.getLogger(__name__)

STAGE = "marts"
METRIC_COUNT = 8
# Earlier weeks a week's row counts are compared with, and how far they may move.
BASELINE_WEEKS = 4
ROW_COUNT_RATIO = (0.5, 2.0)
# One row per pair or rep per week: their counts move only when the team does.
PER_PAIR_MARTS = (
    "fct_rep_activity_weekly",
    "fct_rep_quota_weekly",
    "rpt_pair_metrics_weekly",
    "rpt_pair_prep_weekly",
)
# Deal-level marts: busy and quiet weeks differ, so a jump is worth a look, not a stop.
PER_DEAL_MARTS = ("fct_deal_movement_weekly", "fct_pipeline_waterfall_weekly")
REQUIRED_TABLES = (
    "dim_reps",
    "dim_sales_pairs",
    *PER_PAIR_MARTS,
    *PER_DEAL_MARTS,
)

_PAIR_COVERAGE_SQL = """
with
    week_metrics as (
        select pair_id, count(*) as metric_rows, count(distinct metric) as metrics
        from rpt_pair_metrics_weekly where week = ? group by pair_id
    ),
    week_prep as (
        select pair_id, count(*) as prep_rows from rpt_pair_prep_weekly
        where week = ? group by pair_id
    ),
    week_activity as (
        select rep_id, count(*) as activity_rows from fct_rep_activity_weekly
        where week = ? group by rep_id
    ),
    week_quota as (
        select rep_id, count(*) as quota_rows from fct_rep_quota_weekly
        where week = ? group by rep_id
    )
select
    pairs.pair_id,
    pairs.rep_id,
    reps.user_id as rep_user_id,
    reps.is_pair_eligible as rep_is_pair_eligible,
    managers.user_id as manager_user_id,
    coalesce(week_metrics.metric_rows, 0) as metric_rows,
    coalesce(week_metrics.metrics, 0) as metrics,
    coalesce(week_prep.prep_rows, 0) as prep_rows,
    coalesce(week_activity.activity_rows, 0) as activity_rows,
    coalesce(week_quota.quota_rows, 0) as quota_rows
from dim_sales_pairs as pairs
left join dim_reps as reps on pairs.rep_id = reps.user_id
left join dim_reps as managers on pairs.manager_id = managers.user_id
left join week_metrics on pairs.pair_id = week_metrics.pair_id
left join week_prep on pairs.pair_id = week_prep.pair_id
left join week_activity on pairs.rep_id = week_activity.rep_id
left join week_quota on pairs.rep_id = week_quota.rep_id
order by pairs.pair_id
"""


def validate_marts(
    warehouse: Marts | Path, report_dir: Path, *, settings: Settings, week: Week
) -> QualityResult:
    """Run the marts checkpoint on the built (not yet published) marts for `week` (open
    marts, `salesprep.warehouse.connection`, or a DuckDB file); write
    `report_dir/marts_checkpoint.json` and Data Docs (`report_dir/data_docs/index.html`).
    Raises `QualityGateError` listing each failed blocking expectation, or `QualityError`
    when the marts cannot be read."""
    if isinstance(warehouse, Marts):
        frames, unpaired, pairs = _read_marts(warehouse, week)
    else:
        path = Path(warehouse)
        if not path.is_file():
            raise QualityError(
                f"marts checkpoint: no built warehouse at {path}; build the marts first"
            )
        try:
            marts = DuckDBMarts.open(path)
        except WarehouseReadError as exc:
            raise QualityError(f"marts checkpoint: {exc}") from exc
        with marts:
            frames, unpaired, pairs = _read_marts(marts, week)
    previous = published_pairs(settings.shared_folder_url, week.shift(-1))
    datasets = [
        Dataset("pair_coverage", frames["pair_coverage"], _pair_coverage_checks()),
        Dataset("fct_rep_quota_weekly", frames["fct_rep_quota_weekly"], _quota_checks()),
        Dataset("rpt_pair_prep_weekly", frames["rpt_pair_prep_weekly"], _prep_checks()),
        Dataset(
            "weekly_row_counts",
            frames["weekly_row_counts"],
            _row_count_checks(blocking=True, marts=PER_PAIR_MARTS),
        ),
        Dataset(
            "weekly_deal_row_counts",
            frames["weekly_deal_row_counts"],
            _row_count_checks(blocking=False, marts=PER_DEAL_MARTS),
        ),
    ]
    datasets += [
        _unpaired_dataset(unpaired),
        _vanished_dataset(previous or {}, pairs, settings),
    ]
    result = run_checkpoints(STAGE, datasets, report_dir, week=week)
    write_text_atomic(
        Path(report_dir) / UNPAIRED_FILE,
        json.dumps([u.as_dict() for u in unpaired], indent=2, sort_keys=True) + "\n",
    )
    for user in unpaired:
        log.warning("%s (%s) got no packet for %s: %s", user.name, user.user_id, week, user.why)
    result.unpaired = [u.as_dict() for u in unpaired]
    return raise_for_failures(result)


def _unpaired_dataset(unpaired: list[UnpairedUser]) -> Dataset:
    """One row per active user whose broken reporting line keeps them from a packet: a
    warning that lists them (METRICS.md, who gets a packet)."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "user": [f"{u.name} ({u.user_id}) {u.why}" for u in unpaired],
            "reason": [u.reason for u in unpaired],
        },
        dtype="object",
    )
    check = Check(
        "ExpectColumnValuesToBeNull",
        {"column": "user"},
        "every active user with a broken reporting line (no manager, an inactive or unknown "
        "manager, a manager cycle) is listed here: they got no packet",
        blocking=False,
    )
    return Dataset("users_without_packet", frame, [check])


def _vanished_dataset(
    previous: dict[tuple[str, str], str],
    current: dict[tuple[str, str], str],
    settings: Settings,
) -> Dataset:
    """One row per pair published last week; `vanished_pair` names those without a pair this
    week. Blocking when more than guards.max_vanished_pair_share of them vanished, unless
    guards.accept_vanished_pairs."""
    import pandas as pd

    guards = settings.guards
    keys = sorted(previous)
    frame = pd.DataFrame(
        {
            "pair": [f"{k[0]}-{k[1]}" for k in keys],
            "vanished_pair": [None if k in current else previous[k] for k in keys],
        },
        dtype="object",
    )
    share = guards.max_vanished_pair_share
    fix = (
        "accepted by guards.accept_vanished_pairs"
        if guards.accept_vanished_pairs
        else "if the change is expected, set SALESPREP_GUARDS__ACCEPT_VANISHED_PAIRS=true for "
        "this run"
    )
    check = Check(
        "ExpectColumnValuesToBeNull",
        {"column": "vanished_pair", "mostly": round(1 - share, 6)},
        f"at most {share:.0%} of last week's {len(keys)} published pairs have no pair this week "
        f"(guards.max_vanished_pair_share); {fix}",
        blocking=not guards.accept_vanished_pairs,
    )
    return Dataset("last_week_pairs", frame, [check])


def _read_marts(
    marts: Marts, week: Week
) -> tuple[dict[str, pd.DataFrame], list[UnpairedUser], dict[tuple[str, str], str]]:
    """The frames the checkpoint validates, who got no packet and this week's pairs."""
    try:
        missing = marts.missing(REQUIRED_TABLES)
        if missing:
            raise QualityError(
                f"marts checkpoint: {marts.where} lacks the mart(s) {', '.join(missing)}"
            )
        params = [week.label]
        frames = {
            "pair_coverage": marts.frame(_PAIR_COVERAGE_SQL, params * 4),
            "fct_rep_quota_weekly": marts.frame(
                "select * from fct_rep_quota_weekly where week = ? order by rep_id", params
            ),
            "rpt_pair_prep_weekly": marts.frame(
                "select * from rpt_pair_prep_weekly where week = ? order by pair_id", params
            ),
            "weekly_row_counts": _row_counts(marts, PER_PAIR_MARTS, week),
            "weekly_deal_row_counts": _row_counts(marts, PER_DEAL_MARTS, week),
        }
        return frames, unpaired_users(marts), current_pairs(marts)
    except WarehouseReadError as exc:
        raise QualityError(f"marts checkpoint: {exc}") from exc


def _row_counts(marts: Marts, mart_names: tuple[str, ...], week: Week):
    """One row per mart: the week's row count, the median of the counts of the earlier weeks
    (up to BASELINE_WEEKS, weeks with rows only) and their ratio (null without a baseline)."""
    import pandas as pd

    earlier = [week.shift(-k).label for k in range(BASELINE_WEEKS, 0, -1)]
    rows = []
    for mart in mart_names:
        counts = dict(
            marts.query(
                f"select week, count(*) from {mart} where week between ? and ? group by week",
                [earlier[0], week.label],
            )
        )
        this_week = counts.get(week.label, 0)
        baseline = [counts[label] for label in earlier if counts.get(label)]
        median = float(pd.Series(baseline).median()) if baseline else None
        rows.append(
            {
                "mart": mart,
                "week": week.label,
                "rows": this_week,
                "baseline_rows": median,
                "baseline_weeks": len(baseline),
                "ratio": this_week / median if median else None,
            }
        )
    return pd.DataFrame(rows)


def _pair_coverage_checks() -> list[Check]:
    def exactly(column: str, value: int, description: str) -> Check:
        return Check(
            "ExpectColumnValuesToBeBetween",
            {"column": column, "min_value": value, "max_value": value},
            description,
        )

    return [
        Check(
            "ExpectTableRowCountToBeBetween",
            {"min_value": 1},
            "the org has at least one manager-rep pair to prepare",
        ),
        Check("ExpectColumnValuesToBeUnique", {"column": "pair_id"}, "pairs are unique"),
        Check(
            "ExpectColumnValuesToNotBeNull",
            {"column": "rep_user_id"},
            "every pair's rep is a user of dim_reps",
        ),
        Check(
            "ExpectColumnValuesToNotBeNull",
            {"column": "manager_user_id"},
            "every pair's manager is a user of dim_reps",
        ),
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "rep_is_pair_eligible", "value_set": [True]},
            "every pair's rep is eligible for a packet in dim_reps",
        ),
        exactly("metric_rows", METRIC_COUNT, "every pair has its 8 metric rows this week"),
        exactly("metrics", METRIC_COUNT, "the 8 metric rows are the 8 different metrics"),
        exactly("prep_rows", 1, "every pair has its rpt_pair_prep_weekly row this week"),
        exactly("activity_rows", 1, "every pair's rep has an activity row this week"),
        exactly("quota_rows", 1, "every pair's rep has a quota row this week"),
    ]


def _at_least_zero(column: str, what: str) -> Check:
    return Check(
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": 0},
        f"{what} is 0 or more where set",
    )


def _quota_checks() -> list[Check]:
    return [
        _at_least_zero("quota_amount", "the quota"),
        _at_least_zero("won_to_date", "won to date"),
        _at_least_zero("attainment", "attainment"),
        _at_least_zero("pacing", "pacing"),
        _at_least_zero("open_pipeline", "open pipeline"),
        _at_least_zero("coverage", "coverage"),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "elapsed", "min_value": 0, "max_value": 1},
            "the elapsed share of the quarter is between 0 and 1",
        ),
        Check(
            "ExpectColumnValuesToNotBeNull",
            {"column": "performance_conversation_recommended"},
            "the underperformance flag is always decided",
        ),
    ]


def _prep_checks() -> list[Check]:
    counted = (
        "calls",
        "emails",
        "meetings",
        "opportunities_created",
        "pipeline_created",
        "closed_won_count",
        "closed_won_amount",
        "closed_lost_count",
        "deals_with_movement",
        "deals_stuck",
        "fast_movers",
    )
    return [_at_least_zero(column, column.replace("_", " ")) for column in counted]


def _row_count_checks(*, blocking: bool, marts: tuple[str, ...]) -> list[Check]:
    low, high = ROW_COUNT_RATIO
    return [
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "mart", "value_set": list(marts)},
            "the marts whose weekly row counts are compared",
            blocking=blocking,
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "ratio", "min_value": low, "max_value": high},
            f"this week's row count is within {low:g}x to {high:g}x the median of the "
            f"{BASELINE_WEEKS} weeks before (no check without earlier weeks)",
            blocking=blocking,
        ),
    ]
