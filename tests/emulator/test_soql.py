"""Unit tests of the SOQL subset: tokenizer, parser (valid and malformed), compiler to DuckDB."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from salesprep.emulator import soql
from salesprep.emulator.errors import ApiError
from salesprep.emulator.schema import FieldInfo, ObjectSchema

SCHEMA = ObjectSchema(
    "Account",
    "Account",
    "001",
    (
        FieldInfo("Id", "id"),
        FieldInfo("Name", "string"),
        FieldInfo("Industry", "picklist"),
        FieldInfo("NumberOfEmployees", "int"),
        FieldInfo("AnnualRevenue", "currency"),
        FieldInfo("OwnerId", "reference", reference_to="User"),
        FieldInfo("Description", "textarea"),
        FieldInfo("IsDeleted", "boolean"),
        FieldInfo("CreatedDate", "datetime"),
        FieldInfo("Founded", "date"),
    ),
)


def _error(text: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        soql.compile_query(soql.parse(text), SCHEMA)
    return caught.value


# ----------------------------------------------------------------------------- parser


def test_parse_a_full_query() -> None:
    query = soql.parse(
        "select Id, name FROM Account where (Name = 'a' or Industry in ('x', 'y')) "
        "and not AnnualRevenue > 5 order by Name desc nulls last, Id limit 10 offset 2"
    )
    assert [f.text for f in query.fields] == ["Id", "name"]
    assert query.sobject == "Account" and not query.count
    assert isinstance(query.where, soql.BoolOp) and query.where.op == "AND"
    left, right = query.where.operands
    assert isinstance(left, soql.BoolOp) and left.op == "OR"
    assert isinstance(left.operands[1], soql.InList)
    assert [v.value for v in left.operands[1].values] == ["x", "y"]
    assert isinstance(right, soql.Not) and isinstance(right.operand, soql.Comparison)
    assert query.order_by == (
        soql.OrderItem(query.order_by[0].field, descending=True, nulls_last=True),
        soql.OrderItem(query.order_by[1].field),
    )
    assert (query.limit, query.offset) == (10, 2)


def test_parse_count() -> None:
    query = soql.parse("SELECT COUNT() FROM Account WHERE Name != null")
    assert query.count and query.fields == ()


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'it\\'s'", "it's"),
        ("'a\\\\b'", "a\\b"),
        ("'line\\nnext\\t'", "line\nnext\t"),
        ("'\\\"q\\\"'", '"q"'),
        ("'50\\%'", "50%"),
        ("-12", -12),
        ("3.25", 3.25),
        ("+7", 7),
        ("2026-01-05", date(2026, 1, 5)),
        ("2026-01-05T09:30:00Z", datetime(2026, 1, 5, 9, 30)),
        ("2026-01-05T09:30:00.250Z", datetime(2026, 1, 5, 9, 30, 0, 250000)),
        ("2026-01-05T09:30:00+02:00", datetime(2026, 1, 5, 7, 30)),
        ("2026-01-05T09:30:00-0530", datetime(2026, 1, 5, 15, 0)),
        ("null", None),
        ("TRUE", True),
        ("false", False),
    ],
)
def test_literals(literal: str, value: object) -> None:
    query = soql.parse(f"SELECT Id FROM Account WHERE Name = {literal}")
    assert query.where.value.value == value


def test_like_patterns_keep_escaped_wildcards_literal() -> None:
    query = soql.parse("SELECT Id FROM Account WHERE Name LIKE '50\\%_off\\\\%'")
    assert query.where.pattern.pattern == "50\\%_off\\\\%"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT",
        "SELECT FROM Account",
        "SELECT Id Account",
        "SELECT Id FROM",
        "SELECT Id, FROM Account",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account WHERE Name",
        "SELECT Id FROM Account WHERE Name =",
        "SELECT Id FROM Account WHERE Name = 'open",
        "SELECT Id FROM Account WHERE Name = 'bad \\q escape'",
        "SELECT Id FROM Account WHERE (Name = 'x'",
        "SELECT Id FROM Account WHERE Name = 'x')",
        "SELECT Id FROM Account WHERE Name = 'a' AND Industry = 'b' OR Industry = 'c'",
        "SELECT Id FROM Account WHERE Name NOT LIKE 'x'",
        "SELECT Id FROM Account WHERE Name LIKE",
        "SELECT Id FROM Account WHERE Name IN ()",
        "SELECT Id FROM Account WHERE Name IN 'x'",
        "SELECT Id FROM Account WHERE CreatedDate > 2026-01-05T00:00:00",
        "SELECT Id FROM Account WHERE Founded = 2026-02-30",
        "SELECT Id FROM Account ORDER Name",
        "SELECT Id FROM Account ORDER BY Name NULLS",
        "SELECT Id FROM Account LIMIT -1",
        "SELECT Id FROM Account LIMIT 1.5",
        "SELECT Id FROM Account LIMIT 5 trailing",
        "SELECT Id FROM Account, Contact",
        "SELECT COUNT(Id) FROM Account",
        "SELECT COUNT(), Id FROM Account",
        "SELECT Id FROM Account GROUP BY Name",
        "SELECT Id FROM Account #",
        "UPDATE Account SET Name = 'x'",
    ],
)
def test_malformed_queries(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        soql.parse(text)
    assert caught.value.status == 400
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "ERROR at Row:" in caught.value.message


def test_empty_query_is_malformed() -> None:
    with pytest.raises(ApiError) as caught:
        soql.parse("   ")
    assert caught.value.error_code == "MALFORMED_QUERY"


def test_error_pointer_names_row_and_column() -> None:
    with pytest.raises(ApiError) as caught:
        soql.parse("SELECT Id\nFRM Account")
    expected = "\nFRM Account\n^\nERROR at Row:2:Column:1\nunexpected token: FRM"
    assert caught.value.message == expected


def test_offset_above_2000_is_out_of_range() -> None:
    with pytest.raises(ApiError) as caught:
        soql.parse("SELECT Id FROM Account LIMIT 10 OFFSET 2001")
    assert caught.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"


# --------------------------------------------------------------------------- compiler


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("SELECT Nope FROM Account", "INVALID_FIELD", "No such column 'Nope' on entity 'Account'"),
        ("SELECT Id, Name, name FROM Account", "MALFORMED_QUERY", "duplicate field selected"),
        ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD", "type string and should be"),
        ("SELECT Id FROM Account WHERE NumberOfEmployees = '5'", "INVALID_FIELD", "integer"),
        ("SELECT Id FROM Account WHERE IsDeleted = 'true'", "INVALID_FIELD", "type boolean"),
        ("SELECT Id FROM Account WHERE IsDeleted > true", "INVALID_FIELD", "invalid operator"),
        ("SELECT Id FROM Account WHERE Founded = 2026-01-05T00:00:00Z", "INVALID_FIELD", "date"),
        ("SELECT Id FROM Account WHERE AnnualRevenue LIKE '5%'", "INVALID_FIELD", "LIKE"),
        ("SELECT Id FROM Account WHERE Description = 'x'", "INVALID_FIELD", "can not be filtered"),
        ("SELECT Id FROM Account ORDER BY Description", "INVALID_FIELD", "can not be sorted"),
        ("SELECT Id FROM Account WHERE AnnualRevenue > null", "MALFORMED_QUERY", "null"),
    ],
)
def test_compile_errors(text: str, code: str, fragment: str) -> None:
    error = _error(text)
    assert error.error_code == code
    assert fragment in error.message


ROWS = [
    # Id, Name, Industry, NumberOfEmployees, AnnualRevenue, IsDeleted
    ("001A", "Acme", "Tech", 10, 100.0, False),
    ("001B", "acme", None, None, None, False),
    ("001C", "Globex", "Retail", 500, 5000.0, True),
    ("001D", None, "tech", 50, None, False),
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        'CREATE TABLE "obj_Account" ("Id" VARCHAR, "Name" VARCHAR, "Industry" VARCHAR, '
        '"NumberOfEmployees" BIGINT, "AnnualRevenue" DOUBLE, "IsDeleted" BOOLEAN)'
    )
    connection.executemany('INSERT INTO "obj_Account" VALUES (?, ?, ?, ?, ?, ?)', ROWS)
    return connection


def _run(con: duckdb.DuckDBPyConnection, where: str, *, include_deleted: bool = False) -> list:
    compiled = soql.compile_query(soql.parse(f"SELECT Id FROM Account WHERE {where}"), SCHEMA)
    from_sql, params = compiled.from_sql(include_deleted=include_deleted)
    rows = con.execute(f'SELECT "Id" {from_sql} ORDER BY "Id"', params).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'ACME'", ["001A", "001B"]),
        ("Industry != 'tech'", ["001B"]),  # case-insensitive, and nulls count as different
        ("NOT Industry = 'Tech'", ["001B"]),
        ("NOT AnnualRevenue > 50", ["001B", "001D"]),
        ("Industry NOT IN ('Retail')", ["001A", "001B", "001D"]),
        ("Industry NOT IN ('Retail', null)", ["001A", "001D"]),
        ("Industry IN ('TECH', null)", ["001A", "001B", "001D"]),
        ("Id = '001a'", []),  # Ids match exactly
        ("Name LIKE 'a_me'", ["001A", "001B"]),
        ("Name LIKE '%'", ["001A", "001B"]),
        ("NumberOfEmployees >= 10 AND NumberOfEmployees < 100", ["001A", "001D"]),
        ("(Name = null OR AnnualRevenue = null) AND Industry != null", ["001D"]),
    ],
)
def test_compiled_sql_follows_soql_semantics(
    con: duckdb.DuckDBPyConnection, where: str, expected: list[str]
) -> None:
    assert _run(con, where) == expected


def test_deleted_rows_are_hidden_unless_asked(con: duckdb.DuckDBPyConnection) -> None:
    assert _run(con, "NumberOfEmployees > 100") == []
    assert _run(con, "NumberOfEmployees > 100", include_deleted=True) == ["001C"]
