"""The object catalog is the one declaration every room reads; keep its copies honest."""

from __future__ import annotations

import csv
from pathlib import Path

from salesprep.catalog import KEY_PREFIXES, OBJECTS, STANDARD_OPPORTUNITY_STAGES, get_object

SEED = (
    Path(__file__).resolve().parents[2] / "dbt_project/seeds/deals/standard_opportunity_stages.csv"
)


def test_dbt_standard_stage_seed_equals_the_catalog():
    with SEED.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (
            r["stage_name"],
            int(r["sort_order"]),
            r["is_closed"] == "true",
            r["is_won"] == "true",
            int(r["default_probability"]),
            r["forecast_category_name"],
        )
        for r in rows
    ] == [
        (s.name, s.sort_order, s.is_closed, s.is_won, s.probability, s.forecast_category)
        for s in STANDARD_OPPORTUNITY_STAGES
    ]


def test_every_object_has_an_id_a_key_prefix_and_a_cursor_field():
    for sobject in OBJECTS:
        assert sobject.field_names[0] == "Id", sobject.name
        assert sobject.name in KEY_PREFIXES, sobject.name
        assert sobject.has_field(sobject.cursor), sobject.name
        assert get_object(sobject.name.upper()) is sobject
