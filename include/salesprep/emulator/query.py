"""The query and queryAll resources: run SOQL once, keep the result per locator, serve pages.

A query's result is materialized in a DuckDB table in result order, so every page (first,
next, or a retried one) is a cheap rowid range, and the full query never runs twice. Results
expire after a period without use, as Salesforce's query locators do.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import threading
import time
from dataclasses import dataclass

from salesprep.emulator import soql
from salesprep.emulator.errors import ApiError
from salesprep.emulator.schema import FieldInfo, quote_identifier, quote_literal
from salesprep.emulator.store import NoSuchObjectError, OrgStore

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
MAX_BATCH_SIZE = 2000
# After the last page, a result stays this long so a retried last page still answers.
_FINISHED_GRACE_SECONDS = 60.0
_LOCATOR_ALPHABET = string.ascii_letters + string.digits


def batch_size_from_header(value: str | None, default: int = DEFAULT_BATCH_SIZE) -> int:
    """The batch size of a `Sforce-Query-Options: batchSize=N` header, clamped to 200..2000."""
    if not value:
        return default
    for option in value.replace(";", ",").split(","):
        name, _, number = option.partition("=")
        if name.strip().lower() == "batchsize" and number.strip().isdigit():
            return max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, int(number.strip())))
    return default


def _json_value(info: FieldInfo, column: str) -> str:
    if info.type == "datetime":
        return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%g+0000')"
    if info.type == "date":
        return f"strftime({column}, '%Y-%m-%d')"
    return column


def result_column(index: int) -> str:
    """The column of a result table holding the query's `index`-th selected field."""
    return quote_identifier(f"c{index}")


@dataclass(frozen=True)
class ResultTable:
    """A query's records materialized in result order: record i has rowid i."""

    name: str  # a quoted identifier
    total: int


def materialize(
    con, compiled: soql.CompiledQuery, from_sql: str, params: list, name: str
) -> ResultTable:
    """Run `compiled` once into table `name`: `_id` (the record Id) then one column per field."""
    id_field = compiled.schema.field("Id")
    id_sql = id_field.column if id_field is not None else "NULL"
    selects = [f"{id_sql} AS _id"] + [
        f"{info.column} AS {result_column(i)}" for i, info in enumerate(compiled.fields)
    ]
    table = quote_identifier(name)
    order = f" ORDER BY {compiled.order_sql}" if compiled.order_sql else ""
    con.execute(
        f"CREATE TABLE {table} AS SELECT {', '.join(selects)} {from_sql}"
        f"{order}{compiled.limit_sql()}",
        params,
    )
    (total,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return ResultTable(table, total)


def drop_tables(store: OrgStore, tables: list[str]) -> None:
    """Drop result tables that nobody can page through any more."""
    if not tables:
        return
    con = store.connect()
    try:
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        con.close()


@dataclass
class _Result:
    locator: str
    table: str
    total: int
    batch_size: int
    record_sql: str  # SELECT list producing one JSON text per record
    expires_at: float
    ttl: float


def _page_body(total: int, done: bool, next_url: str | None, records: list[str]) -> bytes:
    head = f'{{"totalSize":{total},"done":{"true" if done else "false"},'
    if next_url is not None:
        head += f'"nextRecordsUrl":{json.dumps(next_url)},'
    return (head + '"records":[' + ",".join(records) + "]}").encode()


class QueryEngine:
    """Answers SOQL over an `OrgStore`, with paging through query locators."""

    def __init__(
        self,
        store: OrgStore,
        *,
        result_ttl_seconds: float = 900.0,
        max_open_results: int = 50,
    ) -> None:
        self.store = store
        self.result_ttl_seconds = result_ttl_seconds
        self.max_open_results = max_open_results
        self._results: dict[str, _Result] = {}
        self._lock = threading.Lock()

    def compile(self, text: str) -> soql.CompiledQuery:
        """Parse and resolve a SOQL text against the org (loading the object if needed)."""
        query = soql.parse(text)
        try:
            schema = self.store.loaded_schema(query.sobject)
        except NoSuchObjectError as exc:
            raise soql.unsupported_type_error(query) from exc
        return soql.compile_query(query, schema)

    def run(
        self,
        text: str,
        *,
        include_deleted: bool,
        batch_size: int,
        version: str,
        endpoint: str,
    ) -> bytes:
        """The first page of a query, as the JSON body Salesforce sends."""
        self._expire()
        compiled = self.compile(text)
        from_sql, params = compiled.from_sql(include_deleted=include_deleted)
        con = self.store.connect()
        try:
            if compiled.query.count:
                (count,) = con.execute(f"SELECT count(*) {from_sql}", params).fetchone()
                if compiled.query.offset:
                    count = max(0, count - compiled.query.offset)
                if compiled.query.limit is not None:
                    count = min(count, compiled.query.limit)
                return _page_body(count, True, None, [])
            result = self._materialize(con, compiled, from_sql, params, batch_size, version)
            body = self._page(con, result, 0, batch_size, version, endpoint)
            if result.total <= batch_size:
                # One page: no locator was handed out, so nobody can ask for this result again.
                with self._lock:
                    self._results.pop(result.locator, None)
                self._drop([result])
            return body
        finally:
            con.close()

    def more(
        self, locator: str, offset: int, *, batch_size: int | None, version: str, endpoint: str
    ) -> bytes:
        """A later page of a query, from its locator and the offset of its first record."""
        self._expire()
        with self._lock:
            result = self._results.get(locator)
        if result is None or offset < 0 or offset > result.total:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        con = self.store.connect()
        try:
            return self._page(
                con, result, offset, batch_size or result.batch_size, version, endpoint
            )
        finally:
            con.close()

    def open_results(self) -> int:
        """How many query results are kept for paging."""
        with self._lock:
            return len(self._results)

    def close(self) -> None:
        with self._lock:
            results = list(self._results.values())
            self._results.clear()
        self._drop(results)

    # ------------------------------------------------------------------------ internals

    def _materialize(
        self,
        con,
        compiled: soql.CompiledQuery,
        from_sql: str,
        params: list,
        batch_size: int,
        version: str,
    ) -> _Result:
        schema = compiled.schema
        locator = "01g" + "".join(secrets.choice(_LOCATOR_ALPHABET) for _ in range(15))
        table = materialize(con, compiled, from_sql, params, f"result_{locator}")
        url_prefix = f"/services/data/v{version}/sobjects/{schema.name}/"
        pairs = [
            "'attributes'",
            f"json_object('type', {quote_literal(schema.name)}, 'url', "
            f"{quote_literal(url_prefix)} || _id)",
        ]
        for i, info in enumerate(compiled.fields):
            pairs += [quote_literal(info.name), _json_value(info, result_column(i))]
        result = _Result(
            locator=locator,
            table=table.name,
            total=table.total,
            batch_size=batch_size,
            record_sql=f"json_object({', '.join(pairs)})",
            expires_at=time.monotonic() + self.result_ttl_seconds,
            ttl=self.result_ttl_seconds,
        )
        with self._lock:
            self._results[locator] = result
            evicted = self._evict_oldest()
        self._drop(evicted)
        log.debug("query %s on %s: %d records", locator, schema.name, table.total)
        return result

    def _page(
        self, con, result: _Result, offset: int, batch_size: int, version: str, endpoint: str
    ) -> bytes:
        end = min(offset + batch_size, result.total)
        rows = con.execute(
            f"SELECT {result.record_sql} FROM {result.table} "
            "WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
            [offset, end],
        ).fetchall()
        done = end >= result.total
        next_url = None if done else f"/services/data/v{version}/{endpoint}/{result.locator}-{end}"
        with self._lock:
            result.expires_at = time.monotonic() + (
                min(_FINISHED_GRACE_SECONDS, result.ttl) if done else result.ttl
            )
        return _page_body(result.total, done, next_url, [row[0] for row in rows])

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [r for r in self._results.values() if r.expires_at <= now]
            for r in expired:
                del self._results[r.locator]
        self._drop(expired)

    def _evict_oldest(self) -> list[_Result]:
        evicted = []
        while len(self._results) > self.max_open_results:
            oldest = min(self._results.values(), key=lambda r: r.expires_at)
            evicted.append(self._results.pop(oldest.locator))
        return evicted

    def _drop(self, results: list[_Result]) -> None:
        drop_tables(self.store, [r.table for r in results])
