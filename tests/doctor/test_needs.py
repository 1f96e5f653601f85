"""The map from objects and fields to the metrics they feed stays true to the catalog."""

from __future__ import annotations

from salesprep.catalog import OBJECTS, get_object
from salesprep.doctor.needs import FIELD_NEEDS, FOR_BI_ONLY, OBJECT_NEEDS


def test_every_catalog_object_says_what_it_feeds() -> None:
    assert set(OBJECT_NEEDS) == {o.name for o in OBJECTS}
    for sobject in OBJECTS:
        need = OBJECT_NEEDS[sobject.name]
        assert need.feeds
        # An optional object must say what the run does without it.
        assert sobject.required or need.without, sobject.name


def test_every_entry_names_a_catalog_field() -> None:
    for object_name, field_name in FIELD_NEEDS:
        assert get_object(object_name).has_field(field_name), f"{object_name}.{field_name}"


def test_required_fields_name_their_metric_and_optional_ones_their_cost() -> None:
    for sobject in OBJECTS:
        if OBJECT_NEEDS[sobject.name] is FOR_BI_ONLY:
            continue  # landed for BI only: no metric to name
        for f in sobject.fields:
            need = FIELD_NEEDS.get((sobject.name, f.name))
            if f.required and f.name != "Id":
                assert need is not None, f"{sobject.name}.{f.name} is required: say what it feeds"
            if need is not None and not f.required:
                assert need.without, f"{sobject.name}.{f.name}: say what its absence costs"
