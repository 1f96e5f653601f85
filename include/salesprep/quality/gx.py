"""Great Expectations plumbing shared by the raw and marts checkpoints.

A checkpoint stage (`raw`, `marts`) is a list of `Dataset`s: a pandas DataFrame, or `Batches` of
bounded size read in turn, plus the `Check`s it must pass. `run_checkpoints` validates them with an
ephemeral GX 1.x context (one pandas dataframe asset, suite, validation definition and checkpoint
per dataset), builds Data Docs into the report folder and writes a JSON summary next to them. A
batched dataset's per-batch results are merged into one validation result (one Data Docs page);
a check that needs every row at once (`Check.whole`, e.g. Id uniqueness) takes its result from a
set-wise query over the whole data instead (decision 37). GX is imported inside the
function: the import takes seconds, so it must not slow down DAG parsing or the CLI's start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd

    from salesprep.weeks import Week

log = logging.getLogger(__name__)

DATA_DOCS_SITE = "salesprep"
UNEXPECTED_SAMPLE = 5


class QualityError(RuntimeError):
    """A checkpoint could not run at all (unreadable input, GX failure); names the stage."""


class QualityGateError(RuntimeError):
    """A blocking data-quality check failed; the message lists each failed expectation."""

    def __init__(self, message: str, result: QualityResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Check:
    """One expectation: a GX expectation class name (e.g. `ExpectColumnValuesToBeUnique`),
    its keyword arguments, whether a failure blocks the run, and a sentence for humans."""

    expectation: str
    kwargs: dict[str, Any]
    description: str
    blocking: bool = True
    # Only rows that are not soft-deleted (IsDeleted is not true) are checked.
    live_rows_only: bool = False
    # For a batched dataset, a check that no single batch can judge (uniqueness): computes its
    # result over the whole data (set-wise, e.g. in DuckDB); it replaces the batches' results.
    whole: Callable[[], WholeResult] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WholeResult:
    """A column-map check's result over the whole data, in GX's terms: rows with a value
    (`element_count` less `missing_count`) of which `unexpected_count` break the rule, and the
    first unexpected values in row order (`partial_unexpected_list`, at most UNEXPECTED_SAMPLE)."""

    element_count: int
    missing_count: int
    unexpected_count: int
    partial_unexpected_list: list[Any]


@dataclass
class Batches:
    """A dataset too large to hold as one frame: `read()` yields pandas frames of bounded size
    (each with `columns`), `rows` in all. At least one frame, empty when there are no rows."""

    rows: int
    columns: list[str]
    read: Callable[[], Iterator[pd.DataFrame]]


@dataclass
class Dataset:
    """Data to validate, named for the report (`Opportunity`, `fct_rep_quota_weekly`): one
    DataFrame, or `Batches` validated in turn and reported as one."""

    name: str
    frame: pd.DataFrame | Batches
    checks: list[Check] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.frame.rows if isinstance(self.frame, Batches) else len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)


@dataclass
class CheckOutcome:
    """The result of one check, in plain values (no GX objects)."""

    dataset: str
    expectation: str
    column: str | None
    description: str
    blocking: bool
    success: bool
    unexpected_count: int | None = None
    unexpected_sample: list[Any] = field(default_factory=list)
    observed_value: Any = None
    error: str | None = None

    def describe(self) -> str:
        where = f"{self.dataset}.{self.column}" if self.column else self.dataset
        text = f"{where}: {self.description} ({self.expectation})"
        if self.error:
            return f"{text}: could not be evaluated: {self.error}"
        if self.unexpected_count:
            sample = ", ".join(repr(v) for v in self.unexpected_sample)
            text += f": {self.unexpected_count:,} unexpected, e.g. {sample}"
        elif self.observed_value is not None:
            text += f": observed {_short(self.observed_value)}"
        return text


@dataclass
class QualityResult:
    """The outcome of one checkpoint stage, with timings and where the reports are."""

    stage: str
    outcomes: list[CheckOutcome]
    rows: dict[str, int]
    import_seconds: float
    setup_seconds: float
    validate_seconds: float
    docs_seconds: float
    report_path: Path
    data_docs_index: Path
    # Users who got no packet (marts stage), as `pair_coverage.UnpairedUser.as_dict()`.
    unpaired: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.blocking_failures

    @property
    def failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def blocking_failures(self) -> list[CheckOutcome]:
        return [o for o in self.failures if o.blocking]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [o for o in self.failures if not o.blocking]

    @property
    def seconds(self) -> float:
        return self.import_seconds + self.setup_seconds + self.validate_seconds + self.docs_seconds

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary (fit for XCom and the CLI)."""
        return {
            "stage": self.stage,
            "success": self.success,
            "checks": len(self.outcomes),
            "failed": len(self.failures),
            "blocking_failed": len(self.blocking_failures),
            "seconds": round(self.seconds, 2),
            "report": str(self.report_path),
            "data_docs": str(self.data_docs_index),
            **({"unpaired_users": self.unpaired} if self.unpaired else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "timings": {
                "import_seconds": round(self.import_seconds, 3),
                "setup_seconds": round(self.setup_seconds, 3),
                "validate_seconds": round(self.validate_seconds, 3),
                "docs_seconds": round(self.docs_seconds, 3),
            },
            "rows": self.rows,
            "failures": [o.describe() for o in self.failures],
            "outcomes": [_jsonable(asdict(o)) for o in self.outcomes],
        }

    def failure_message(self) -> str:
        lines = [
            f"{self.stage} data-quality checkpoint failed "
            f"({len(self.blocking_failures)} blocking check(s) of {len(self.outcomes)}):"
        ]
        lines += [f"  - {o.describe()}" for o in self.blocking_failures]
        lines.append(f"report: {self.report_path}; Data Docs: {self.data_docs_index}")
        return "\n".join(lines)


def import_gx() -> Any:
    """Import great_expectations quietly (its INFO logging is noisy and the import is slow)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations

    return great_expectations


def run_checkpoints(
    stage: str, datasets: list[Dataset], report_dir: Path, *, week: Week | None = None
) -> QualityResult:
    """Validate every dataset with GX, build Data Docs in `report_dir/data_docs`, write
    `report_dir/<stage>_checkpoint.json`, and return the result (it raises nothing on failed
    checks: call `raise_for_failures` for the gate).

    With `week`, the GX run is named after the week and timed at its end, so the Data Docs of a
    re-run of the same week have the same paths and bytes (GX otherwise stamps the wall clock)."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    docs_dir = report_dir / "data_docs"

    started = time.perf_counter()
    gx = import_gx()
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import_seconds = time.perf_counter() - started

    started = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # CRM text the checks quote is escaped on every page (salesprep.quality.gx_pages).
    escaping_view = {"class_name": "EscapingPageView", "module_name": "salesprep.quality.gx_pages"}
    context.add_data_docs_site(
        site_name=DATA_DOCS_SITE,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "site_section_builders": {
                "expectations": {"view": escaping_view},
                "validations": {"view": escaping_view},
                "profiling": "None",
            },
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
        },
    )
    source = context.data_sources.add_pandas(name=stage)
    checkpoints = []
    for dataset in datasets:
        checkpoints.append(_add_checkpoint(gx, gxe, context, source, stage, dataset))
    setup_seconds = time.perf_counter() - started

    started = time.perf_counter()
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = None
    if week is not None:
        run_id = RunIdentifier(run_name=f"{stage}-{week.label}", run_time=week.end())
    outcomes: list[CheckOutcome] = []
    for dataset, checkpoint in zip(datasets, checkpoints, strict=True):
        try:
            if isinstance(dataset.frame, Batches):
                # Every batch is stored under the same key; the merged result replaces them.
                batch_run_id = run_id or RunIdentifier(run_time=datetime.now(UTC))
                validations = [_validate_batches(context, checkpoint, dataset, batch_run_id)]
            else:
                result = checkpoint.run(
                    batch_parameters={"dataframe": dataset.frame}, run_id=run_id
                )
                validations = list(result.run_results.values())
        except QualityError:
            raise
        except Exception as exc:  # GX raises many unrelated types; name the dataset
            raise QualityError(
                f"{stage} checkpoint: Great Expectations could not validate {dataset.name}: {exc}"
            ) from exc
        for validation in validations:
            outcomes.extend(_outcomes(dataset, validation))
    validate_seconds = time.perf_counter() - started

    started = time.perf_counter()
    context.build_data_docs(site_names=[DATA_DOCS_SITE])
    if week is not None:
        _make_data_docs_reproducible(docs_dir, week)
    _add_content_security_policy(docs_dir)
    docs_seconds = time.perf_counter() - started

    quality = QualityResult(
        stage=stage,
        outcomes=outcomes,
        rows={d.name: d.rows for d in datasets},
        import_seconds=import_seconds,
        setup_seconds=setup_seconds,
        validate_seconds=validate_seconds,
        docs_seconds=docs_seconds,
        report_path=report_dir / f"{stage}_checkpoint.json",
        data_docs_index=docs_dir / "index.html",
    )
    quality.report_path.write_text(
        json.dumps(quality.to_dict(), indent=2, default=str) + "\n", encoding="utf-8"
    )
    log.info(
        "%s checkpoint: %d checks on %d datasets, %d failed (%d blocking) in %.1fs "
        "(GX import %.1fs, setup %.1fs, validation %.1fs, Data Docs %.1fs)",
        stage,
        len(outcomes),
        len(datasets),
        len(quality.failures),
        len(quality.blocking_failures),
        quality.seconds,
        import_seconds,
        setup_seconds,
        validate_seconds,
        docs_seconds,
    )
    for outcome in quality.warnings:
        log.warning("%s checkpoint warning: %s", stage, outcome.describe())
    return quality


_GX_STAMP = re.compile(r"\d{8}T\d{6}\.\d{6}Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _make_data_docs_reproducible(docs_dir: Path, week: Week) -> None:
    """GX stamps the wall clock (validation time, a cache-busting `?d=` on its logo) and random
    element ids into every page. Replace them with the week's end and ids numbered per page, so
    a re-run of the week publishes the same bytes and the manifest hashes stay stable."""
    stamp = week.end().strftime("%Y%m%dT%H%M%S.%fZ")
    for path in sorted(docs_dir.rglob("*.html")):
        text = _GX_STAMP.sub(stamp, path.read_text(encoding="utf-8"))
        path.write_text(_number_uuids(text), encoding="utf-8")


def _add_content_security_policy(docs_dir: Path) -> None:
    """Every Data Docs page gets its policy (`page_policy`): no inline script, except the
    stage's index page, whose inline scripts (built from check names, no CRM text) are
    allowed by hash."""
    from salesprep.quality.page_policy import gx_policy, with_policy

    for path in sorted(docs_dir.rglob("*.html")):
        page = path.read_text(encoding="utf-8")
        policy = gx_policy(page, allow_inline=path == docs_dir / "index.html")
        path.write_text(with_policy(page, policy), encoding="utf-8")


def _number_uuids(text: str) -> str:
    ids: dict[str, str] = {}
    return _UUID.sub(
        lambda m: ids.setdefault(m[0], f"00000000-0000-4000-8000-{len(ids):012d}"), text
    )


def raise_for_failures(result: QualityResult) -> QualityResult:
    """Raise `QualityGateError` when a blocking check failed; return the result otherwise."""
    if result.blocking_failures:
        raise QualityGateError(result.failure_message(), result)
    return result


def _add_checkpoint(gx: Any, gxe: Any, context: Any, source: Any, stage: str, dataset: Dataset):
    from great_expectations.expectations.row_conditions import Column

    asset = source.add_dataframe_asset(name=dataset.name)
    batch_definition = asset.add_batch_definition_whole_dataframe(dataset.name)
    suite = context.suites.add(gx.ExpectationSuite(name=f"{stage}.{dataset.name}"))
    for check in dataset.checks:
        try:
            expectation_class = getattr(gxe, check.expectation)
        except AttributeError as exc:
            raise QualityError(
                f"{stage} checkpoint, {dataset.name}: unknown GX expectation {check.expectation}"
            ) from exc
        kwargs = dict(check.kwargs)
        if check.live_rows_only and "IsDeleted" in dataset.columns:
            # Staging drops soft-deleted rows, so their values cannot harm the marts.
            kwargs["row_condition"] = Column("IsDeleted") != True  # noqa: E712
        meta = {"blocking": check.blocking, "notes": check.description}
        suite.add_expectation(expectation_class(**kwargs, meta=meta))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{stage}.{dataset.name}", data=batch_definition, suite=suite)
    )
    docs_action = gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DATA_DOCS_SITE])
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"{stage}.{dataset.name}",
            validation_definitions=[validation],
            actions=[docs_action],
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": UNEXPECTED_SAMPLE,
            },
        )
    )


def _validate_batches(context: Any, checkpoint: Any, dataset: Dataset, run_id: Any) -> Any:
    """Validate each batch of `dataset` with the checkpoint's validation definition, merge the
    results into one (counts summed, samples in row order), put each `Check.whole` result in
    place of its batches' results, and store the merged result where GX stored the batches'
    (its Data Docs page is the dataset's one page)."""
    assert isinstance(dataset.frame, Batches)
    (definition,) = checkpoint.validation_definitions
    keys_before = set(context.validation_results_store.list_keys())
    merged = None
    offset = 0
    fingerprints: list[str] = []
    for frame in dataset.frame.read():
        result = definition.run(
            checkpoint_id=checkpoint.id,
            batch_parameters={"dataframe": frame},
            result_format=checkpoint.result_format,
            run_id=run_id,
        )
        fingerprints.append(str(_batch_markers(result).get(_FINGERPRINT, "")))
        merged = result if merged is None else _merge_validation(merged, result, offset)
        offset += len(frame)
        del frame, result
    if merged is None:
        raise QualityError(f"{dataset.name}: its batches yielded no frame (not even an empty one)")
    for check, item in zip(dataset.checks, merged.results, strict=True):
        if check.whole is not None:
            _put_whole_result(item, check.whole())
    _restate_statistics(merged)
    if len(fingerprints) > 1:
        # GX hashes the frame it saw; the whole data's mark is the hash of its batches' hashes.
        digest = hashlib.md5("".join(fingerprints).encode(), usedforsecurity=False).hexdigest()
        _batch_markers(merged)[_FINGERPRINT] = digest
    new_keys = set(context.validation_results_store.list_keys()) - keys_before
    for key in new_keys:
        context.validation_results_store.set(key, merged)
    return merged


_FINGERPRINT = "pandas_data_fingerprint"


def _batch_markers(validation: Any) -> dict[str, Any]:
    markers = validation.meta.get("batch_markers")
    return markers if isinstance(markers, dict) else {}


def _merge_validation(into: Any, other: Any, offset: int) -> Any:
    """Fold the result of the next batch (`other`, whose first row is row `offset` of the
    dataset) into `into`: GX's column-map counts add up; samples and indexes keep row order."""
    into.success = bool(into.success and other.success)
    for item, more in zip(into.results, other.results, strict=True):
        item.success = bool(item.success and more.success)
        raised = (more.exception_info or {}).get("raised_exception")
        if raised and not (item.exception_info or {}).get("raised_exception"):
            item.exception_info = more.exception_info
        a, b = item.result or {}, more.result or {}
        if "element_count" not in a or "element_count" not in b:
            continue
        merged = {
            "element_count": a["element_count"] + b["element_count"],
            "missing_count": a.get("missing_count", 0) + b.get("missing_count", 0),
            "unexpected_count": a.get("unexpected_count", 0) + b.get("unexpected_count", 0),
        }
        limit = _sample_limit(a, b)
        merged["partial_unexpected_list"] = (
            list(a.get("partial_unexpected_list") or [])
            + list(b.get("partial_unexpected_list") or [])
        )[:limit]
        if "partial_unexpected_index_list" in a or "partial_unexpected_index_list" in b:
            merged["partial_unexpected_index_list"] = (
                list(a.get("partial_unexpected_index_list") or [])
                + [offset + i for i in b.get("partial_unexpected_index_list") or []]
            )[:limit]
        counts: dict[Any, int] = {}
        for entry in [
            *(a.get("partial_unexpected_counts") or []),
            *(b.get("partial_unexpected_counts") or []),
        ]:
            counts[entry["value"]] = counts.get(entry["value"], 0) + entry["count"]
        merged["partial_unexpected_counts"] = [
            {"value": v, "count": n} for v, n in sorted(counts.items(), key=lambda kv: -kv[1])
        ][:limit]
        item.result = {**a, **_with_percents(merged)}
    return into


def _sample_limit(*results: dict[str, Any]) -> int:
    """GX's sample size: `partial_unexpected_count`, which each batch's list already obeys."""
    return max(UNEXPECTED_SAMPLE, *(len(r.get("partial_unexpected_list") or []) for r in results))


def _with_percents(result: dict[str, Any]) -> dict[str, Any]:
    """GX's percentages, from the counts: unexpected among rows with a value, and of all rows."""
    element, missing = result["element_count"], result["missing_count"]
    unexpected, nonmissing = result["unexpected_count"], element - missing
    return {
        **result,
        "missing_percent": 100.0 * missing / element if element else None,
        "unexpected_percent": 100.0 * unexpected / nonmissing if nonmissing else None,
        "unexpected_percent_total": 100.0 * unexpected / element if element else None,
        "unexpected_percent_nonmissing": 100.0 * unexpected / nonmissing if nonmissing else None,
    }


def _put_whole_result(item: Any, whole: WholeResult) -> None:
    """Replace a batch-wise result with the result computed over the whole data."""
    sample = list(whole.partial_unexpected_list)[:UNEXPECTED_SAMPLE]
    counts: dict[Any, int] = {}
    for value in sample:
        counts[value] = counts.get(value, 0) + 1
    result = {
        "element_count": whole.element_count,
        "missing_count": whole.missing_count,
        "unexpected_count": whole.unexpected_count,
        "partial_unexpected_list": sample,
        "partial_unexpected_counts": [
            {"value": v, "count": n} for v, n in sorted(counts.items(), key=lambda kv: -kv[1])
        ],
    }
    # Row indexes of a set-wise query would not be GX's; leave them out rather than guess.
    item.result = {
        k: v for k, v in (item.result or {}).items() if k != "partial_unexpected_index_list"
    }
    item.result.update(_with_percents(result))
    item.success = whole.unexpected_count == 0


def _restate_statistics(validation: Any) -> None:
    results = validation.results
    passed = sum(1 for r in results if r.success)
    validation.success = passed == len(results)
    validation.statistics.update(
        {
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        }
    )


def _outcomes(dataset: Dataset, validation: Any) -> list[CheckOutcome]:
    outcomes = []
    for item in validation.results:
        config = item.expectation_config
        meta = config.meta or {}
        result = dict(item.result or {})
        info = item.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        outcomes.append(
            CheckOutcome(
                dataset=dataset.name,
                expectation=config.type,
                column=config.kwargs.get("column"),
                description=str(meta.get("notes", "")),
                blocking=bool(meta.get("blocking", True)),
                success=bool(item.success),
                unexpected_count=result.get("unexpected_count"),
                unexpected_sample=_jsonable(_distinct(result.get("partial_unexpected_list") or [])),
                observed_value=_jsonable(result.get("observed_value")),
                error=error,
            )
        )
    return outcomes


def _distinct(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen[:UNEXPECTED_SAMPLE]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
