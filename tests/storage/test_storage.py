"""The storage layer (`salesprep.storage`) against a real S3 API (moto's server mode): folders
copied up and down with the swap semantics, DuckDB reading Parquet in place, the settings,
and credentials from an Airflow connection."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salesprep import storage
from salesprep.config import ConfigError, Settings, StorageSettings, load_settings
from salesprep.runs.atomic_swap import RemoteSwap, sweep_remote


def _settings(tmp_path: Path, s3_server, bucket: str, **extra) -> Settings:
    url = f"s3://{bucket}/salesprep"
    return Settings(
        data_dir=tmp_path / "data",
        storage=StorageSettings(url=url, options=s3_server.options, **extra),
    )


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def test_push_replaces_the_folder_and_pull_copies_it_down(tmp_path, s3_server, bucket):
    settings = _settings(tmp_path, s3_server, bucket)
    fs = s3_server.filesystem()
    first = _folder(tmp_path / "one", {"A/A.parquet": b"a1", "gone.txt": b"x", "report": b"r1"})
    assert storage.push(settings, first, "raw", last="report") == 3
    second = _folder(tmp_path / "two", {"A/A.parquet": b"a2", "B/B.parquet": b"b", "report": b"r2"})
    storage.push(settings, second, "raw", last="report")
    base = f"{bucket}/salesprep/raw"
    assert sorted(p[len(base) + 1 :] for p in fs.find(base)) == [
        "A/A.parquet",
        "B/B.parquet",
        "report",
    ]
    assert fs.cat_file(f"{base}/A/A.parquet") == b"a2"
    assert [p for p in fs.find(f"{bucket}/salesprep") if "/." in p] == []  # no staging left

    local = tmp_path / "worker" / "raw"
    _folder(local, {"stale.txt": b"old worker copy"})
    assert storage.pull(settings, "raw", local, marker="report") == 3
    assert sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()) == [
        "A/A.parquet",
        "B/B.parquet",
        "report",
    ]
    # The worker's copy is current (same report): nothing is copied again.
    assert storage.pull(settings, "raw", local, marker="report") == 0


def test_a_failed_upload_leaves_the_shared_folder_as_it_was(tmp_path, s3_server, bucket):
    settings = _settings(tmp_path, s3_server, bucket)
    fs = s3_server.filesystem()
    storage.push(settings, _folder(tmp_path / "one", {"a": b"1", "report": b"r1"}), "raw")
    target = f"{bucket}/salesprep/raw"
    broken = RemoteSwap(fs, target, {"a": b"2", "b": tmp_path / "vanished"}, last="report")
    with pytest.raises(FileNotFoundError):
        broken.write()
    assert fs.cat_file(f"{target}/a") == b"1"
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.find(f"{bucket}/salesprep")) == ["a", "report"]


def test_rollback_puts_the_previous_version_back(tmp_path, s3_server, bucket):
    fs = s3_server.filesystem()
    target = f"{bucket}/salesprep/rendered/2026-W10"
    fs.pipe({f"{target}/index.html": b"old", f"{target}/kept.md": b"old"})
    swap = RemoteSwap(fs, target, {"index.html": b"new", "added.md": b"new"}, last="index.html")
    swap.write()
    swap.commit()
    assert fs.cat_file(f"{target}/index.html") == b"new"
    assert not fs.exists(f"{target}/kept.md")
    swap.rollback()
    assert fs.cat_file(f"{target}/index.html") == b"old"
    assert fs.cat_file(f"{target}/kept.md") == b"old"
    assert not fs.exists(f"{target}/added.md")


def test_sweep_puts_back_a_week_whose_swap_died(tmp_path, s3_server, bucket):
    """A run killed between copying a folder aside and putting the new one in place."""
    fs = s3_server.filesystem()
    root = f"{bucket}/salesprep/rendered"
    fs.pipe({f"{root}/.2026-W10.old-deadhost-999999-0123abcd/index.html": b"old"})
    fs.pipe({f"{root}/.2026-W11.staging-deadhost-999999-0123abcd/index.html": b"half"})
    swept = sweep_remote(fs, root)
    assert len(swept) == 2
    assert fs.cat_file(f"{root}/2026-W10/index.html") == b"old"
    assert not fs.exists(f"{root}/2026-W11")


def test_duckdb_reads_parquet_in_place(tmp_path, s3_server, bucket):
    settings = _settings(tmp_path, s3_server, bucket)
    fs = s3_server.filesystem()
    with fs.open(f"{bucket}/salesprep/raw/User/User.parquet", "wb") as out:
        pq.write_table(pa.table({"Id": ["005A", "005B"]}), out)
    with duckdb.connect() as con:
        storage.register_duckdb(con, settings)
        sql = f"select count(*) from read_parquet('{settings.raw_url}/*/*.parquet')"
        assert con.execute(sql).fetchone() == (2,)


def test_settings_place_the_shared_data_under_the_url(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPREP_STORAGE__URL", "s3://acme-data/salesprep/")
    monkeypatch.setenv("SALESPREP_STORAGE__OPTIONS", '{"client_kwargs": {"region_name": "x"}}')
    settings = load_settings(data_dir=tmp_path)
    assert settings.raw_url == "s3://acme-data/salesprep/raw"
    assert settings.shared_folder_url == "s3://acme-data/salesprep/shared"
    assert settings.storage.options == {"client_kwargs": {"region_name": "x"}}
    assert settings.lease_kind == "object"
    assert settings.raw_root == tmp_path.resolve() / "raw"  # the extraction's workspace
    monkeypatch.delenv("SALESPREP_STORAGE__URL")
    local = Settings(data_dir=tmp_path)
    assert not local.storage.enabled
    assert local.raw_url == str(local.raw_root)
    assert local.shared_folder_url == str(tmp_path.resolve() / "shared")
    assert local.lease_kind == "file"


def test_an_unknown_scheme_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SALESPREP_STORAGE__URL", "s4://acme/salesprep")
    with pytest.raises(ConfigError, match=r"storage\.url.*'s4' is not an fsspec protocol"):
        load_settings(data_dir=tmp_path)


def test_credentials_from_an_airflow_connection(tmp_path, s3_server, bucket, monkeypatch):
    """`storage.conn_id`: Airflow's ObjectStoragePath builds the filesystem from an `aws`
    connection (the Amazon provider), here one pointing at the S3 server."""
    monkeypatch.setenv("AIRFLOW_CONN_SALESPREP_S3", json.dumps(s3_server.airflow_connection))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(
        data_dir=tmp_path,
        storage=StorageSettings(url=f"s3://{bucket}/salesprep", conn_id="salesprep_s3"),
    )
    storage.push(settings, _folder(tmp_path / "q", {"raw/index.html": b"page"}), "quality/2026-W10")
    assert (
        s3_server.filesystem().cat_file(f"{bucket}/salesprep/quality/2026-W10/raw/index.html")
        == b"page"
    )
    with duckdb.connect() as con:  # the same filesystem serves DuckDB (dbt's plugin)
        storage.register_duckdb(con, settings)
        sql = f"select count(*) from read_text('s3://{bucket}/salesprep/quality/*/*/*.html')"
        assert con.execute(sql).fetchone() == (1,)
