"""Fixtures for the packet tests: a tiny warehouse with hand-written mart rows, its contexts
and rendered packets (session-scoped: built once)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from salesprep.config import Settings
from salesprep.packets.context import build_contexts
from salesprep.packets.model import PacketContext
from salesprep.packets.render import RenderedPacket, render_packet

from .marts_fixture import WEEK, international_table_rows, write_warehouse

INITIATIVES_YAML = """\
initiatives:
  - title: Prepare for the healthcare vertical
    status: in progress
    owner: Head of Sales
    due: 2026-06-30
    note: Two reference customers by quarter end
  - title: Pilot the new discovery script
    status: planned
    reps: [005000000000R01AAC]
  - title: Team 2 only
    status: done
    managers: [005000000000M02AAB]
"""


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_warehouse(tmp_path_factory.mktemp("warehouse") / "salesprep.duckdb")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, warehouse: Path) -> Settings:
    folder = tmp_path_factory.mktemp("config")
    initiatives = folder / "initiatives.yml"
    initiatives.write_text(INITIATIVES_YAML, encoding="utf-8")
    return Settings(data_dir=folder, warehouse_path=warehouse, initiatives_file=initiatives)


@pytest.fixture(scope="session")
def con(warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def contexts(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[PacketContext]:
    return build_contexts(con, WEEK, settings)


@pytest.fixture(scope="session")
def by_rep(contexts: list[PacketContext]) -> dict[str, PacketContext]:
    return {ctx.rep.id: ctx for ctx in contexts}


@pytest.fixture(scope="session")
def rendered(contexts: list[PacketContext]) -> list[RenderedPacket]:
    return [render_packet(ctx) for ctx in contexts]


@pytest.fixture(scope="session")
def intl_contexts(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> dict[str, PacketContext]:
    """The international variant's contexts by rep (EUR corporate, German money, a USD and a
    JPY deal, a quota without a rate, emails not logged)."""
    path = tmp_path_factory.mktemp("intl") / "salesprep.duckdb"
    write_warehouse(path, international_table_rows())
    connection = duckdb.connect(str(path), read_only=True)
    try:
        contexts = build_contexts(connection, WEEK, settings)
    finally:
        connection.close()
    return {ctx.rep.id: ctx for ctx in contexts}


@pytest.fixture(scope="session")
def intl_rendered(intl_contexts: dict[str, PacketContext]) -> dict[str, RenderedPacket]:
    return {rep: render_packet(ctx) for rep, ctx in intl_contexts.items()}
