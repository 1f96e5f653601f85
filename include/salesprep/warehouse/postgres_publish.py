"""Publishing the checked Postgres build for BI in one transaction (decision 47).

dbt builds into `settings.postgres.build_schema`, which keeps its tables from week to week
(the incremental models' state). Publishing copies them into a new version schema
(`<schema_name>__v<time><token>`), then, in one short transaction, points the views of
`schema_name` (what BI reads) at it. A BI query sees the last version or the new one, never
a mix; the swap waits at most `publish_lock_timeout_seconds` for queries that hold the views,
and a query waits at most that long behind the swap. `PostgresPublish` has `Swap`'s protocol,
so `commit_together` publishes it with the week's packets and puts it back if they fail.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import errors, sql

from salesprep.config import PostgresSettings
from salesprep.runs.atomic_swap import AtomicSwapError
from salesprep.warehouse.postgres import CONTROL_SCHEMA, conninfo, ensure_database
from salesprep.warehouse.publish import WarehousePublishError

log = logging.getLogger(__name__)

# The published pointer: which version schema the views of each published schema read.
POINTER_TABLE = "published_versions"
_MAX_IDENTIFIER = 63  # Postgres truncates longer names
_VERSION_SUFFIX_LENGTH = len("__v20260101T000000abcd")
# Relation kinds copied from the build schema: tables, views, materialized views, partitions.
_RELKINDS = ("r", "v", "m", "p")

Comments = dict[str, dict[str | None, str]]  # relation -> column (None: itself) -> comment


@dataclass(frozen=True)
class Version:
    """One version schema and the relations (with their comments) the published views read."""

    schema: str
    relations: tuple[str, ...]
    comments: Comments


def version_prefix(target: PostgresSettings) -> str:
    """The start of every version schema of `target.schema_name`."""
    return f"{target.schema_name}__v"


def stage_postgres_warehouse(target: PostgresSettings) -> PostgresPublish:
    """Copy the checked build (`target.build_schema`) into a new version schema, ready to be
    published with `commit()`. Versions that no published view reads (left by runs that died)
    are dropped first. Raises WarehousePublishError naming the schema when the build is empty
    or cannot be copied."""
    build = target.build_schema
    if len(target.schema_name) + _VERSION_SUFFIX_LENGTH > _MAX_IDENTIFIER:
        raise WarehousePublishError(
            f"postgres.schema_name {target.schema_name!r} is too long to publish: version "
            f"schemas add {_VERSION_SUFFIX_LENGTH} characters and Postgres names stop at "
            f"{_MAX_IDENTIFIER}; choose a name of at most "
            f"{_MAX_IDENTIFIER - _VERSION_SUFFIX_LENGTH} characters"
        )
    ensure_database(target)
    version = f"{version_prefix(target)}{datetime.now(UTC):%Y%m%dT%H%M%S}{secrets.token_hex(2)}"
    try:
        with psycopg.connect(conninfo(target), autocommit=True) as conn:
            _ensure_pointer(conn)
            sweep_versions(conn, target)
            with conn.transaction():  # a failed copy leaves no version schema behind
                relations = _relations(conn, build)
                if not relations:
                    raise WarehousePublishError(
                        f"the Postgres build schema {build!r} in database {target.database!r} "
                        "has no tables; run the dbt build for the week first"
                    )
                conn.execute(sql.SQL("create schema {}").format(sql.Identifier(version)))
                for name in relations:
                    conn.execute(
                        sql.SQL("create table {} as select * from {}").format(
                            sql.Identifier(version, name), sql.Identifier(build, name)
                        )
                    )
                comments = _comments(conn, build, relations)
    except psycopg.Error as exc:
        raise WarehousePublishError(
            f"cannot copy the Postgres build schema {build!r} of database {target.database!r} "
            f"into {version!r}: {exc}"
        ) from exc
    log.info("staged %d relations of %s as %s", len(relations), build, version)
    return PostgresPublish(target, Version(version, tuple(relations), comments))


class PostgresPublish:
    """A staged version of the published Postgres schema, with `atomic_swap.Swap`'s protocol:
    `commit()` points the views at it, `rollback()` points them back, `finish()` drops the
    replaced version, `discard()` drops the staged one (before a commit)."""

    def __init__(self, target: PostgresSettings, staged: Version) -> None:
        self.target = target
        self.staged = staged
        self.previous: Version | None = None
        self.committed = False

    def __repr__(self) -> str:
        return f"PostgresPublish({self.target.schema_name!r} <- {self.staged.schema!r})"

    @property
    def published(self) -> str:
        """Where BI reads, for logs and the asset event (no credentials)."""
        t = self.target
        return f"postgresql://{t.host}:{t.port}/{t.database} schema {t.schema_name}"

    def commit(self) -> None:
        if self.committed:
            return
        self.previous = self._point(self.staged)
        self.committed = True
        log.info("published %s: %s now reads %s", self.published, *self._names(self.staged))

    def rollback(self) -> None:
        if not self.committed:
            self.discard()
            return
        try:
            self._point(self.previous, replacing=self.staged)
        except WarehousePublishError as exc:  # commit_together logs it and goes on
            raise AtomicSwapError(str(exc)) from exc
        self.committed = False
        log.warning("put %s back on %s", self.target.schema_name, self._previous_name())

    def finish(self) -> None:
        if self.committed and self.previous is not None:
            self._drop_schema(self.previous.schema)
            self.previous = None

    def discard(self) -> None:
        if not self.committed:
            self._drop_schema(self.staged.schema)

    # ---------------------------------------------------------------- internals

    def _names(self, version: Version) -> tuple[str, str]:
        return self.target.schema_name, version.schema

    def _previous_name(self) -> str:
        return self.previous.schema if self.previous else "no published version"

    def _point(
        self, version: Version | None, *, replacing: Version | None = None
    ) -> Version | None:
        """In one transaction, point the published views at `version` (None: drop the views
        `replacing` made); returns the version they read before. Tries again while BI's
        queries hold the views past the lock timeout."""
        target = self.target
        attempts = target.publish_attempts
        for attempt in range(1, attempts + 1):
            try:
                with psycopg.connect(conninfo(target)) as conn, conn.transaction():
                    timeout_ms = int(target.publish_lock_timeout_seconds * 1000)
                    conn.execute(f"set local lock_timeout = {timeout_ms}")
                    return _point_views(conn, target.schema_name, version, replacing)
            except errors.LockNotAvailable as exc:
                if attempt == attempts:
                    raise WarehousePublishError(
                        f"cannot publish {self.published}: BI queries held its views for "
                        f"{attempts} attempts of postgres.publish_lock_timeout_seconds="
                        f"{target.publish_lock_timeout_seconds:g}: {exc}; raise the timeout or "
                        "postgres.publish_attempts, or publish again"
                    ) from exc
                log.info(
                    "publish attempt %d of %d waited %gs for BI queries on %s: trying again",
                    attempt,
                    attempts,
                    target.publish_lock_timeout_seconds,
                    target.schema_name,
                )
                time.sleep(target.publish_lock_timeout_seconds)
            except psycopg.Error as exc:
                raise WarehousePublishError(
                    f"cannot point {self.published} at "
                    f"{version.schema if version else 'nothing'}: {exc}"
                ) from exc
        raise AssertionError("unreachable")  # the loop returns or raises

    def _drop_schema(self, schema: str) -> None:
        try:
            with psycopg.connect(conninfo(self.target), autocommit=True) as conn:
                _drop_version(conn, schema)
        except psycopg.Error as exc:  # the next publish's sweep tries again
            log.warning("cannot drop the version schema %s yet: %s", schema, exc)


def published_version(conn: psycopg.Connection, schema_name: str) -> str | None:
    """The version schema the published views of `schema_name` read, None before a publish."""
    row = conn.execute(
        sql.SQL("select version_schema from {} where schema_name = %s").format(
            sql.Identifier(CONTROL_SCHEMA, POINTER_TABLE)
        ),
        (schema_name,),
    ).fetchone()
    return row[0] if row else None


def sweep_versions(conn: psycopg.Connection, target: PostgresSettings) -> list[str]:
    """Drop the version schemas of `target.schema_name` that no published view reads (a run
    died between staging and publishing, or before dropping the replaced version)."""
    current = published_version(conn, target.schema_name)
    prefix = version_prefix(target)
    rows = conn.execute(
        "select nspname from pg_namespace where starts_with(nspname, %s) order by nspname",
        (prefix,),
    ).fetchall()
    swept = [name for (name,) in rows if name != current and _drop_version(conn, name)]
    if swept:
        log.warning("dropped %d version schema(s) left by earlier runs: %s", len(swept), swept)
    return swept


def _ensure_pointer(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(CONTROL_SCHEMA)))
    conn.execute(
        sql.SQL(
            "create table if not exists {} (schema_name text primary key,"
            " version_schema text not null, published_at timestamptz not null)"
        ).format(sql.Identifier(CONTROL_SCHEMA, POINTER_TABLE))
    )


def _drop_version(conn: psycopg.Connection, schema: str) -> bool:
    """Drop a version schema and its tables (all or nothing). Without cascade: a view someone
    made on a version's table keeps that version (logged; the next publish tries again)."""
    try:
        with conn.transaction():
            for name in _relations(conn, schema):
                conn.execute(sql.SQL("drop table {}").format(sql.Identifier(schema, name)))
            conn.execute(sql.SQL("drop schema if exists {}").format(sql.Identifier(schema)))
    except errors.DependentObjectsStillExist as exc:
        log.warning("keeping the version schema %s: %s", schema, exc)
        return False
    return True


def _relations(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind = any(%s) and not c.relispartition"
        " order by c.relname",
        (schema, list(_RELKINDS)),
    ).fetchall()
    return [name for (name,) in rows]


def _comments(conn: psycopg.Connection, schema: str, relations: list[str]) -> Comments:
    """The comments of `schema`'s relations and their columns (dbt persist_docs), to put on
    the published views."""
    rows = conn.execute(
        "select c.relname, null, obj_description(c.oid, 'pg_class')"
        " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = any(%s)"
        " union all select c.relname, a.attname, col_description(c.oid, a.attnum)"
        " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
        " where n.nspname = %s and c.relname = any(%s)",
        (schema, relations, schema, relations),
    ).fetchall()
    comments: Comments = {}
    for relation, column, comment in rows:
        if comment:
            comments.setdefault(relation, {})[column] = comment
    return comments


def _point_views(
    conn: psycopg.Connection,
    published: str,
    version: Version | None,
    replacing: Version | None,
) -> Version | None:
    """The swap itself, inside the caller's transaction: lock what BI reads (all at once, so
    that no query sees some views moved and others not), repoint or create a view per
    relation, drop views of relations the version no longer has, record the pointer."""
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(published)))
    existing = dict(
        conn.execute(
            "select c.relname, c.relkind from pg_class as c"
            " join pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relkind = any(%s)",
            (published, list(_RELKINDS)),
        ).fetchall()
    )
    before_schema = published_version(conn, published)
    before = _version_of(conn, before_schema) if before_schema else None
    ours = set(before.relations if before else ()) | set(replacing.relations if replacing else ())
    wanted = set(version.relations) if version else set()
    # Relations of the published schema this swap replaces or drops: its own views, and tables
    # of the same names (a schema dbt built into before publishing existed: they are moved
    # into a legacy version, so a rollback can point back at them).
    touched = sorted(name for name in existing if name in wanted or name in ours)
    if touched:
        conn.execute(
            sql.SQL("lock table {} in access exclusive mode").format(
                sql.SQL(", ").join(sql.Identifier(published, name) for name in touched)
            )
        )
    legacy = sorted(name for name in touched if existing[name] != "v")
    if legacy:
        legacy_schema = f"{published}__v00000000T000000{secrets.token_hex(2)}"
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(legacy_schema)))
        for name in legacy:
            conn.execute(
                sql.SQL("alter table {} set schema {}").format(
                    sql.Identifier(published, name), sql.Identifier(legacy_schema)
                )
            )
        before = Version(legacy_schema, tuple(legacy), {})
    for name in sorted(name for name in touched if existing[name] == "v" and name not in wanted):
        conn.execute(sql.SQL("drop view {}").format(sql.Identifier(published, name)))
    for name in sorted(wanted):
        view = sql.Identifier(published, name)
        source = sql.Identifier(version.schema, name)
        replaced = existing.get(name) == "v"
        _create_view(conn, view, source, replace=replaced)
        for column, comment in version.comments.get(name, {}).items():
            _comment(conn, view, column, comment)
    table = sql.Identifier(CONTROL_SCHEMA, POINTER_TABLE)
    if version is None:
        conn.execute(sql.SQL("delete from {} where schema_name = %s").format(table), (published,))
    else:
        conn.execute(
            sql.SQL(
                "insert into {} values (%s, %s, now()) on conflict (schema_name)"
                " do update set version_schema = excluded.version_schema,"
                " published_at = excluded.published_at"
            ).format(table),
            (published, version.schema),
        )
    return before


def _version_of(conn: psycopg.Connection, schema: str) -> Version:
    relations = _relations(conn, schema)
    # A version's own copies carry no comments (the views keep theirs when repointed); tables
    # moved aside from an older layout still carry dbt's.
    return Version(schema, tuple(relations), _comments(conn, schema, relations))


def _create_view(
    conn: psycopg.Connection, view: sql.Composable, source: sql.Composable, *, replace: bool
) -> None:
    statement = sql.SQL("create or replace view {} as select * from {}").format(view, source)
    if not replace:
        conn.execute(statement)
        return
    try:
        with conn.transaction():  # a savepoint: the columns changed (a full-refresh build)
            conn.execute(statement)
    except (errors.InvalidTableDefinition, errors.FeatureNotSupported):
        conn.execute(sql.SQL("drop view {}").format(view))
        conn.execute(statement)


def _comment(conn: psycopg.Connection, view: sql.Identifier, column: str | None, text: str) -> None:
    if column is None:
        conn.execute(sql.SQL("comment on view {} is {}").format(view, sql.Literal(text)))
    else:
        target = sql.SQL("{}.{}").format(view, sql.Identifier(column))
        conn.execute(sql.SQL("comment on column {} is {}").format(target, sql.Literal(text)))
