"""The SOQL subset the emulator answers: a tokenizer, a parser to an AST, and its SQL over DuckDB.

Supported: `SELECT f1, f2 | COUNT() FROM Object [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n]`,
with =, !=, <>, <, <=, >, >=, IN / NOT IN, LIKE, AND / OR / NOT and parentheses, and string,
number, date, datetime, NULL, TRUE and FALSE literals. Errors carry Salesforce's error codes and
its `ERROR at Row:r:Column:c` pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from salesprep.emulator.errors import ApiError, invalid_field, invalid_type, malformed_query
from salesprep.emulator.schema import ID_TYPES, FieldInfo, ObjectSchema

MAX_OFFSET = 2000

# ---------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, date, datetime, op, lparen, rparen, comma, dot, eof
    text: str
    pos: int
    value: Any = None
    pattern: str | None = None  # string literals: the text as an ILIKE pattern (escape '\')


_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})",
    re.ASCII,
)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![T\d])", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)(?![\w.])", re.ASCII)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_STRING_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'"}


class _Source:
    """The query text, to turn offsets into Salesforce's row/column error pointers."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, pos: int, message: str, factory=malformed_query) -> ApiError:
        line_start = self.text.rfind("\n", 0, pos) + 1
        line_end = self.text.find("\n", pos)
        line = self.text[line_start : line_end if line_end >= 0 else len(self.text)]
        row = self.text.count("\n", 0, pos) + 1
        column = pos - line_start + 1
        pointer = " " * (column - 1) + "^"
        return factory(f"\n{line}\n{pointer}\nERROR at Row:{row}:Column:{column}\n{message}")


def tokenize(text: str) -> list[Token]:
    """The tokens of a SOQL text, ending with an `eof` token."""
    source = _Source(text)
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "'":
            tokens.append(_read_string(source, pos))
            pos += len(tokens[-1].text)
            continue
        match = _DATETIME_RE.match(text, pos)
        if match:
            tokens.append(Token("datetime", match.group(), pos, _datetime_value(source, match)))
            pos = match.end()
            continue
        match = _DATE_RE.match(text, pos)
        if match:
            tokens.append(Token("date", match.group(), pos, _date_value(source, match, pos)))
            pos = match.end()
            continue
        match = _NUMBER_RE.match(text, pos)
        if match and (char not in "+-" or _sign_allowed(tokens)):
            number = match.group()
            is_int = re.fullmatch(r"[+-]?\d+", number) is not None
            tokens.append(Token("number", number, pos, int(number) if is_int else float(number)))
            pos = match.end()
            continue
        match = _IDENT_RE.match(text, pos)
        if match:
            tokens.append(Token("ident", match.group(), pos))
            pos = match.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
        if operator:
            tokens.append(Token("op", "!=" if operator == "<>" else operator, pos))
            pos += len(operator)
            continue
        simple = {"(": "lparen", ")": "rparen", ",": "comma", ".": "dot"}.get(char)
        if simple:
            tokens.append(Token(simple, char, pos))
            pos += 1
            continue
        raise source.error(pos, f"unexpected token: {char}")
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def _sign_allowed(tokens: list[Token]) -> bool:
    """A leading sign belongs to a number only where a value is expected."""
    return bool(tokens) and tokens[-1].kind in ("op", "lparen", "comma")


def _read_string(source: _Source, start: int) -> Token:
    text = source.text
    value: list[str] = []
    pattern: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "'":
            raw = text[start : pos + 1]
            return Token("string", raw, start, "".join(value), "".join(pattern))
        if char == "\\":
            if pos + 1 >= len(text):
                break
            escaped = text[pos + 1]
            if escaped in _STRING_ESCAPES:
                value.append(_STRING_ESCAPES[escaped])
                pattern.append(_STRING_ESCAPES[escaped])
            elif escaped == "\\":
                value.append("\\")
                pattern.append("\\\\")
            elif escaped in "%_":
                # \% and \_ match a literal % or _ in LIKE; elsewhere they mean the character.
                value.append(escaped)
                pattern.append("\\" + escaped)
            else:
                raise source.error(
                    pos,
                    "Invalid string literal '" + text[start:pos] + "'. Illegal character "
                    f"sequence '\\{escaped}' in string literal.",
                )
            pos += 2
            continue
        value.append(char)
        pattern.append(char)
        pos += 1
    raise source.error(start, f"unexpected token: {text[start:]}")


def _datetime_value(source: _Source, match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = match.group(8)
    try:
        offset = timedelta(0)
        if zone != "Z":
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            if zone[0] == "-":
                offset = -offset
        value = datetime(year, month, day, hour, minute, second, micro, timezone(offset))
    except ValueError as exc:
        raise source.error(match.start(), f"invalid datetime: {match.group()} ({exc})") from exc
    return value.astimezone(UTC).replace(tzinfo=None)


def _date_value(source: _Source, match: re.Match[str], pos: int) -> date:
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise source.error(pos, f"invalid date: {match.group()} ({exc})") from exc


# ------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, date, datetime, null, boolean
    value: Any
    pos: int
    text: str
    pattern: str | None = None


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: FieldRef
    pattern: Literal


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND, OR
    operands: tuple[Condition, ...]


Condition = Comparison | InList | Like | Not | BoolOp


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool = False
    nulls_last: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed SOQL query; `fields` is empty for `SELECT COUNT()`."""

    text: str
    fields: tuple[FieldRef, ...]
    count: bool
    sobject: str
    sobject_pos: int
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None


# ---------------------------------------------------------------------------------- parser

_RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "NULL",
        "TRUE",
        "FALSE",
        "ASC",
        "DESC",
        "NULLS",
        "GROUP",
        "HAVING",
    }
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.source = _Source(text)
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "eof":
            self.index += 1
        return token

    def unexpected(self, token: Token | None = None) -> ApiError:
        token = token or self.token
        return self.source.error(token.pos, f"unexpected token: {token.text}")

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "ident" and self.token.text.upper() in words

    def expect_keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.token.kind != kind:
            raise self.unexpected()
        return self.advance()

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        fields, count = self.select_list()
        self.expect_keyword("FROM")
        if self.token.kind != "ident" or self.token.text.upper() in _RESERVED:
            raise self.unexpected()
        sobject_token = self.advance()
        if self.token.kind == "comma":
            raise self.source.error(
                self.token.pos, "only one object in FROM is supported by the emulator"
            )
        where = None
        if self.is_keyword("WHERE"):
            self.advance()
            where = self.condition()
        if self.is_keyword("GROUP", "HAVING"):
            raise self.source.error(
                self.token.pos, f"{self.token.text.upper()} is not supported by the emulator"
            )
        order_by: tuple[OrderItem, ...] = ()
        if self.is_keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            order_by = self.order_list()
        limit = offset = None
        if self.is_keyword("LIMIT"):
            self.advance()
            limit = self.non_negative_integer()
        if self.is_keyword("OFFSET"):
            offset_token = self.advance()
            offset = self.non_negative_integer()
            if offset > MAX_OFFSET:
                raise ApiError(
                    400,
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"Maximum SOQL offset allowed is {MAX_OFFSET} (at column "
                    f"{offset_token.pos + 1})",
                )
        if self.token.kind != "eof":
            raise self.unexpected()
        return Query(
            text=self.source.text,
            fields=fields,
            count=count,
            sobject=sobject_token.text,
            sobject_pos=sobject_token.pos,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
        )

    def select_list(self) -> tuple[tuple[FieldRef, ...], bool]:
        if self.is_keyword("COUNT") and self.tokens[self.index + 1].kind == "lparen":
            count_token = self.advance()
            self.expect("lparen")
            if self.token.kind != "rparen":
                raise self.source.error(
                    count_token.pos,
                    "aggregate functions other than COUNT() are not supported by the emulator",
                )
            self.advance()
            if self.token.kind == "comma":
                raise self.unexpected()
            return (), True
        fields = [self.field_ref()]
        while self.token.kind == "comma":
            self.advance()
            fields.append(self.field_ref())
        return tuple(fields), False

    def field_ref(self) -> FieldRef:
        token = self.token
        if token.kind != "ident" or token.text.upper() in _RESERVED:
            raise self.unexpected()
        self.advance()
        if self.token.kind == "lparen":
            raise self.source.error(
                token.pos, f"function {token.text}() is not supported by the emulator"
            )
        path = [token.text]
        while self.token.kind == "dot":
            self.advance()
            part = self.expect("ident")
            path.append(part.text)
        return FieldRef(tuple(path), token.pos)

    def condition(self) -> Condition:
        operands = [self.unary()]
        operator: str | None = None
        while self.is_keyword("AND", "OR"):
            word = self.token.text.upper()
            if operator is not None and word != operator:
                # SOQL requires parentheses when AND and OR are mixed at one level.
                raise self.unexpected()
            operator = word
            self.advance()
            operands.append(self.unary())
        if operator is None:
            return operands[0]
        return BoolOp(operator, tuple(operands))

    def unary(self) -> Condition:
        if self.is_keyword("NOT"):
            self.advance()
            return Not(self.unary())
        if self.token.kind == "lparen":
            self.advance()
            inner = self.condition()
            self.expect("rparen")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        field = self.field_ref()
        if self.token.kind == "op":
            op = self.advance().text
            return Comparison(field, op, self.literal())
        if self.is_keyword("LIKE"):
            self.advance()
            pattern = self.literal()
            return Like(field, pattern)
        negated = False
        if self.is_keyword("NOT"):
            self.advance()
            negated = True
            if not self.is_keyword("IN"):
                raise self.unexpected()
        if self.is_keyword("IN"):
            self.advance()
            self.expect("lparen")
            values = [self.literal()]
            while self.token.kind == "comma":
                self.advance()
                values.append(self.literal())
            self.expect("rparen")
            return InList(field, tuple(values), negated)
        raise self.unexpected()

    def literal(self) -> Literal:
        token = self.token
        if token.kind in ("string", "number", "date", "datetime"):
            self.advance()
            return Literal(token.kind, token.value, token.pos, token.text, token.pattern)
        if self.is_keyword("NULL"):
            self.advance()
            return Literal("null", None, token.pos, token.text)
        if self.is_keyword("TRUE", "FALSE"):
            self.advance()
            return Literal("boolean", token.text.upper() == "TRUE", token.pos, token.text)
        raise self.unexpected()

    def order_list(self) -> tuple[OrderItem, ...]:
        items = [self.order_item()]
        while self.token.kind == "comma":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        field = self.field_ref()
        descending = False
        if self.is_keyword("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_last = False
        if self.is_keyword("NULLS"):
            self.advance()
            if not self.is_keyword("FIRST", "LAST"):
                raise self.unexpected()
            nulls_last = self.advance().text.upper() == "LAST"
        return OrderItem(field, descending, nulls_last)

    def non_negative_integer(self) -> int:
        token = self.token
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.unexpected()
        self.advance()
        return token.value


def parse(text: str) -> Query:
    """Parse a SOQL text; raises `ApiError` MALFORMED_QUERY naming the offending token."""
    if not text or not text.strip():
        raise malformed_query("The query string is empty")
    return _Parser(text).parse()


# ------------------------------------------------------------------------------------- SQL


@dataclass(frozen=True)
class CompiledQuery:
    """A query resolved against an object: the selected fields and SQL fragments with params."""

    query: Query
    schema: ObjectSchema
    fields: tuple[FieldInfo, ...]
    where_sql: str
    params: tuple[Any, ...]
    order_sql: str  # empty without ORDER BY: file order, which DuckDB preserves

    def from_sql(self, *, include_deleted: bool) -> tuple[str, list[Any]]:
        """`FROM ... WHERE ...` with its parameters. `include_deleted` is queryAll: without it
        (query), rows with IsDeleted and archived activities (IsArchived) are hidden."""
        conditions = [self.where_sql] if self.where_sql else []
        if not include_deleted:
            hidden = [f for f in (self.schema.is_deleted, self.schema.is_archived) if f]
            for position, flag in enumerate(hidden):
                conditions.insert(position, f"coalesce({flag.column}, false) = false")
        sql = f"FROM {self.schema.table}"
        if conditions:
            sql += " WHERE " + " AND ".join(f"({c})" for c in conditions)
        return sql, list(self.params)

    def limit_sql(self) -> str:
        sql = ""
        if self.query.limit is not None:
            sql += f" LIMIT {int(self.query.limit)}"
        if self.query.offset:
            sql += ("" if sql else " LIMIT NULL") + f" OFFSET {int(self.query.offset)}"
        return sql


_NO_SUCH_COLUMN = (
    "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom "
    "field, be sure to append the '__c' after the custom field name. Please reference your "
    "WSDL or the describe call for the appropriate names."
)
_NOT_SUPPORTED_TYPE = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
    "sure to append the '__c' after the entity name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)
# The literal kind a field type accepts, and the type name Salesforce's message uses.
_LITERAL_KINDS: dict[str, tuple[str, str]] = {
    "boolean": ("boolean", "boolean"),
    "date": ("date", "date"),
    "datetime": ("datetime", "dateTime"),
    "int": ("number", "integer"),
    "currency": ("number", "currency"),
    "double": ("number", "double"),
    "percent": ("number", "percent"),
}


def unsupported_type_error(query: Query) -> ApiError:
    """INVALID_TYPE for the query's FROM object."""
    return _Source(query.text).error(
        query.sobject_pos, _NOT_SUPPORTED_TYPE.format(name=query.sobject), invalid_type
    )


class _Compiler:
    def __init__(self, query: Query, schema: ObjectSchema) -> None:
        self.query = query
        self.schema = schema
        self.source = _Source(query.text)
        self.params: list[Any] = []

    def resolve(self, ref: FieldRef) -> FieldInfo:
        if len(ref.path) > 1:
            raise self.source.error(
                ref.pos,
                f"Didn't understand relationship '{ref.path[0]}' in field path. The emulator "
                "serves no relationship fields; select the Id field instead.",
                invalid_field,
            )
        found = self.schema.field(ref.path[0])
        if found is None:
            raise self.source.error(
                ref.pos,
                _NO_SUCH_COLUMN.format(field=ref.text, entity=self.schema.name),
                invalid_field,
            )
        return found

    def filterable(self, ref: FieldRef) -> FieldInfo:
        info = self.resolve(ref)
        if not info.filterable:
            raise self.source.error(
                ref.pos,
                f"field '{info.name}' can not be filtered in a query call",
                invalid_field,
            )
        return info

    def param(self, info: FieldInfo, literal: Literal) -> str:
        expected_kind, type_name = _LITERAL_KINDS.get(info.type, ("string", "string"))
        if literal.kind != expected_kind:
            quoting = "be enclosed" if expected_kind == "string" else "not be enclosed"
            raise self.source.error(
                literal.pos,
                f"value of filter criterion for field '{info.name}' must be of type "
                f"{type_name} and should {quoting} in quotes",
                invalid_field,
            )
        self.params.append(literal.value)
        return "lower(?)" if info.is_text else "?"

    def value_sql(self, info: FieldInfo) -> str:
        return f"lower({info.column})" if info.is_text else info.column

    def condition(self, node: Condition) -> str:
        if isinstance(node, BoolOp):
            joiner = f" {node.op} "
            return "(" + joiner.join(self.condition(o) for o in node.operands) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.condition(node.operand)})"
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, InList):
            return self.in_list(node)
        return self.like(node)

    # SOQL conditions are two-valued: a comparison with a null field value is false, except
    # != and NOT IN, which are true for nulls (unlike SQL, where both would be unknown).
    def comparison(self, node: Comparison) -> str:
        info = self.filterable(node.field)
        if node.value.kind == "null":
            if node.op == "=":
                return f"({info.column} IS NULL)"
            if node.op == "!=":
                return f"({info.column} IS NOT NULL)"
            raise self.source.error(
                node.value.pos, f"invalid operator {node.op} with null", malformed_query
            )
        if node.op not in ("=", "!=") and info.type in ("boolean", *ID_TYPES):
            raise self.source.error(
                node.field.pos,
                f"invalid operator {node.op} on {info.type} field '{info.name}'",
                invalid_field,
            )
        placeholder = self.param(info, node.value)
        column = self.value_sql(info)
        if node.op == "!=":
            return f"({info.column} IS NULL OR {column} != {placeholder})"
        return f"coalesce({column} {node.op} {placeholder}, false)"

    def in_list(self, node: InList) -> str:
        info = self.filterable(node.field)
        placeholders = [self.param(info, v) for v in node.values if v.kind != "null"]
        has_null = any(v.kind == "null" for v in node.values)
        column = self.value_sql(info)
        members = f"{column} IN ({', '.join(placeholders)})" if placeholders else "false"
        if node.negated:
            null_check = f"{info.column} IS NOT NULL AND " if has_null else ""
            return f"({null_check}({info.column} IS NULL OR NOT ({members})))"
        null_check = f" OR {info.column} IS NULL" if has_null else ""
        return f"(coalesce({members}, false){null_check})"

    def like(self, node: Like) -> str:
        info = self.filterable(node.field)
        if not (info.is_text or info.type in ID_TYPES):
            raise self.source.error(
                node.field.pos,
                f"invalid operator LIKE on {info.type} field '{info.name}'",
                invalid_field,
            )
        if node.pattern.kind != "string":
            raise self.source.error(
                node.pattern.pos,
                f"value of filter criterion for field '{info.name}' must be of type string "
                "and should be enclosed in quotes",
                invalid_field,
            )
        self.params.append(node.pattern.pattern)
        return f"coalesce({info.column} ILIKE ? ESCAPE '\\', false)"

    def order(self) -> str:
        parts = []
        for item in self.query.order_by:
            info = self.resolve(item.field)
            if not info.sortable:
                raise self.source.error(
                    item.field.pos,
                    f"field '{info.name}' can not be sorted in a query call",
                    invalid_field,
                )
            direction = "DESC" if item.descending else "ASC"
            nulls = "NULLS LAST" if item.nulls_last else "NULLS FIRST"
            parts.append(f"{self.value_sql(info)} {direction} {nulls}")
            if info.is_text:
                # Case-insensitive first, then a deterministic order among case variants.
                parts.append(f"{info.column} {direction} {nulls}")
        if parts:
            # File order breaks ties, so paging and repeated queries are deterministic.
            parts.append("rowid")
        return ", ".join(parts)

    def compile(self) -> CompiledQuery:
        fields: list[FieldInfo] = []
        seen: set[str] = set()
        for ref in self.query.fields:
            info = self.resolve(ref)
            if info.name in seen:
                raise self.source.error(
                    ref.pos, f"duplicate field selected: {info.name}", malformed_query
                )
            seen.add(info.name)
            fields.append(info)
        where_sql = self.condition(self.query.where) if self.query.where is not None else ""
        return CompiledQuery(
            query=self.query,
            schema=self.schema,
            fields=tuple(fields),
            where_sql=where_sql,
            params=tuple(self.params),
            order_sql=self.order(),
        )


def compile_query(query: Query, schema: ObjectSchema) -> CompiledQuery:
    """Resolve `query` against `schema`; raises INVALID_FIELD / MALFORMED_QUERY `ApiError`s."""
    return _Compiler(query, schema).compile()
