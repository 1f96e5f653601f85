"""Can this user read every object and field the pipeline reads? One check per catalog object,
from the describe that extraction plans its queries with (field-level security hides a field
from describe), naming what is missing and the metrics it costs."""

from __future__ import annotations

from salesprep.catalog import OBJECTS, SObject
from salesprep.doctor.model import Check, Status, fail, info, ok, warn
from salesprep.doctor.needs import Need, field_need, object_need
from salesprep.salesforce.extract import ObjectPlan

_PERMISSION_FIX = (
    "give the integration user read access to {what} (its profile or a permission set: "
    "object permissions and field-level security), or check the names"
)
# Every Salesforce org has a RecordType object, but an object has RecordTypeId only once it has
# record types of its own: its absence says nothing (the "record types" check compares).
_PER_OBJECT_FEATURES = frozenset({"record_types"})
_FEATURE_NOTES = {
    "multi_currency": "single-currency org",
    "advanced_currency_management": "no dated exchange rates",
    "custom_fiscal_year": "no custom fiscal year",
    "record_types": "no record types",
}


def access_checks(plans: list[ObjectPlan], *, loss_reason_field: str) -> list[Check]:
    """One check per catalog object: FAIL for what the run requires, WARN for what a metric
    needs, INFO for a feature the org does not have."""
    by_name = {p.name: p for p in plans}
    features = _features_seen(plans)
    return [_object_check(by_name[o.name], features, loss_reason_field) for o in OBJECTS]


def _features_seen(plans: list[ObjectPlan]) -> set[str]:
    """The features the org shows it has: an object, or a field, that comes with them."""
    seen = set()
    for plan in plans:
        if not plan.present:
            continue
        if plan.sobject.feature:
            seen.add(plan.sobject.feature)
        seen.update(plan.sobject.field(n).feature for n in plan.selected)
    seen.discard("")
    return seen


def _object_check(plan: ObjectPlan, features: set[str], loss_reason_field: str) -> Check:
    sobject = plan.sobject
    name = f"access {sobject.name}"
    if not plan.present:
        return _absent(plan, features, name)
    # (label, need) of each missing field, by what its absence means.
    required: list[tuple[str, Need | None]] = []
    used: list[tuple[str, Need]] = []
    unused: list[str] = []
    for field_name in plan.missing_fields:
        f = sobject.field(field_name)
        if f.feature and (f.feature not in features or f.feature in _PER_OBJECT_FEATURES):
            continue  # a field of a feature the org does not have is not missing
        label = _field_label(sobject, field_name, loss_reason_field)
        need = field_need(sobject.name, field_name)
        if f.required:
            required.append((label, need))
        elif need is not None:
            used.append((label, need))
        else:
            unused.append(label)
    data = {
        "present": True,
        "missing_required": [label for label, _ in required],
        "missing_optional": [label for label, _ in used],
        "missing_unused": unused,
        "affects": {label: need.feeds for label, need in [*required, *used] if need},
    }
    in_org = [
        f
        for f in sobject.fields_for(frozenset(features))
        if f.feature not in _PER_OBJECT_FEATURES or f.name in plan.selected
    ]
    readable = f"{sum(f.name in plan.selected for f in in_org)} of {len(in_org)} fields readable"
    if required:
        feeds = "; ".join(
            f"{label} (feeds {need.feeds})" if need else label for label, need in required
        )
        return fail(
            name,
            f"required field(s) missing or hidden: {feeds}. The run stops before reading data",
            _PERMISSION_FIX.format(what=", ".join(label for label, _ in required)),
            **data,
        )
    if used:
        costs = "; ".join(f"{label} feeds {n.feeds}, without it {n.without}" for label, n in used)
        return warn(
            name,
            f"{readable}; missing or hidden: {costs}",
            _PERMISSION_FIX.format(what=", ".join(label for label, _ in used)),
            **data,
        )
    if unused:
        return ok(
            name, f"{readable} (not readable, used by no metric: {', '.join(unused)})", **data
        )
    return ok(name, f"{readable}; feeds {object_need(sobject.name).feeds}", **data)


def _absent(plan: ObjectPlan, features: set[str], name: str) -> Check:
    sobject = plan.sobject
    need = object_need(sobject.name)
    data = {"present": False, "feeds": need.feeds, "without": need.without}
    if sobject.required:
        return fail(
            name,
            f"the object is missing or hidden; it feeds {need.feeds}. The run stops before "
            "reading data",
            _PERMISSION_FIX.format(what=sobject.name),
            **data,
        )
    if sobject.feature and sobject.feature not in features:
        return info(
            name,
            f"not in this org ({_FEATURE_NOTES.get(sobject.feature, sobject.feature)}): "
            f"{need.without}",
            **data,
        )
    if sobject.feature:
        return warn(
            name,
            f"missing or hidden, though the org uses {sobject.feature.replace('_', ' ')} "
            f"(other objects carry its fields): {need.without}",
            _PERMISSION_FIX.format(what=sobject.name),
            **data,
        )
    status = Status.INFO if need.feeds.startswith("nothing") else Status.WARN
    fix = "" if status is Status.INFO else _PERMISSION_FIX.format(what=sobject.name)
    return Check(status, name, f"missing or hidden: {need.without}", fix, data)


def _field_label(sobject: SObject, field_name: str, loss_reason_field: str) -> str:
    if sobject.name == "Opportunity" and field_name == "Loss_Reason__c":
        return f"{sobject.name}.{loss_reason_field}"
    return f"{sobject.name}.{field_name}"
