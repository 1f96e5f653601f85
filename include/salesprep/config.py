"""Typed settings for a salesprep deployment: read from SALESPREP_* environment variables
and an optional YAML file named by SALESPREP_CONFIG, inside tasks, never at import."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from salesprep.dbt_project import CHECKOUT_PROJECT_DIR

CONFIG_FILE_ENV = "SALESPREP_CONFIG"
POSTGRES_ENV_PREFIX = "SALESPREP_DBT_POSTGRES_"
# The checkout: dags/ and dbt_project/ sit beside include/salesprep/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A setting that is missing or invalid; the message names it, its source and the fix."""


class MetricRules(BaseModel):
    """Thresholds of the metric dictionary (METRICS.md); each is a default config can change."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    stuck_min_days: int = Field(14, ge=1, description="Floor of the stage-aging threshold, days.")
    stuck_median_factor: float = Field(
        1.5, gt=0, description="Multiplier on the median stage time."
    )
    stuck_min_exits: int = Field(5, ge=1, description="Exits needed before the median is trusted.")
    stuck_fallback_days: int = Field(30, ge=1, description="Stage threshold with too few exits.")
    stage_exit_lookback_days: int = Field(365, ge=1)
    no_activity_days: int = Field(14, ge=1)
    close_push_min_count: int = Field(2, ge=1)
    close_push_window_days: int = Field(90, ge=1)
    fast_mover_cycle_percentile: float = Field(0.25, gt=0, lt=1)
    fast_mover_lookback_days: int = Field(365, ge=1)
    fast_mover_min_stage_jump: int = Field(2, ge=1)
    underperformance_pacing: float = Field(0.7, gt=0)
    underperformance_weeks: int = Field(
        3, ge=1, description="Weeks below pacing, out of the window."
    )
    underperformance_window_weeks: int = Field(4, ge=1)
    close_it_or_kill_it_weeks: int = Field(
        3, ge=1, description="Weeks stuck in a row before a deal is 'close it or kill it'."
    )


class PairRules(BaseModel):
    """Who gets a packet, beyond the manager/rep structure of the User object."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    include_roles: list[str] = Field(default_factory=list)
    exclude_roles: list[str] = Field(default_factory=list)
    include_profiles: list[str] = Field(default_factory=list)
    exclude_profiles: list[str] = Field(default_factory=list)


class PostgresSettings(BaseModel):
    """Where the dbt `postgres` target lives. Environment: the variables dbt_project/profiles.yml
    reads, SALESPREP_DBT_POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DATABASE and _SCHEMA (for
    `schema_name`). The password is a SecretStr: it never shows in a repr, a log or an error."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error
    # Publishing's settings, not the connection's: dbt does not read them (set them as
    # SALESPREP_POSTGRES__<NAME> or in the YAML file).
    NOT_FOR_DBT: ClassVar[frozenset[str]] = frozenset(
        {"publish_lock_timeout_seconds", "publish_attempts"}
    )

    host: str = "127.0.0.1"
    port: int = Field(5432, ge=1, le=65535)
    user: str = "postgres"
    # Empty: local trust auth. A deployment sets it in the environment, not in the YAML file.
    password: SecretStr = SecretStr("")
    database: str = "salesprep"
    schema_name: str = Field(
        "public",
        description="The schema BI reads: views onto the last published build (decision 47).",
    )
    publish_lock_timeout_seconds: float = Field(
        0.5,
        gt=0,
        description="The longest one publish attempt waits for BI's queries on the published "
        "views (Postgres lock_timeout); a BI query waits at most this long behind a publish. "
        "Keep it below the server's deadlock_timeout (1 s by default), so that a BI query "
        "caught in a lock cycle with the swap is never the one cancelled.",
    )
    publish_attempts: int = Field(
        60,
        ge=1,
        description="How often a publish tries again (pausing the lock timeout in between) "
        "when BI's queries kept the published views busy, before the run fails.",
    )

    @staticmethod
    def env_names() -> dict[str, str]:
        """Each field's environment variable (the names profiles.yml reads)."""
        suffixes = {"schema_name": "SCHEMA"}
        return {
            name: f"{POSTGRES_ENV_PREFIX}{suffixes.get(name, name.upper())}"
            for name in PostgresSettings.model_fields
            if name not in PostgresSettings.NOT_FOR_DBT
        }

    @property
    def build_schema(self) -> str:
        """The schema dbt builds and the checks and the render read; BI reads `schema_name`,
        which publishing swaps the checked build into (issue 14)."""
        return f"{self.schema_name}_build"

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml reads, from these settings: for the dbt process only."""
        values = {**self.model_dump(), "password": self.password.get_secret_value()}
        return {env: str(values[name]) for name, env in self.env_names().items()}


class DuckDBSettings(BaseModel):
    """Bounds of the DuckDB database the dbt build runs in (dbt-duckdb's profile `settings`,
    applied to every connection dbt opens): DuckDB's own `memory_limit` (its buffer manager
    spills to disk beyond it; the dbt process also holds Python and dbt's manifest, about
    0.3 GiB at M) and its worker `threads`. Environment: SALESPREP_DUCKDB__MEMORY_LIMIT and
    SALESPREP_DUCKDB__THREADS."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    memory_limit: str = Field(
        "1.5GiB",
        description="DuckDB memory_limit: a size such as '1.5GiB' or '800MB', or a share of "
        "the machine's memory such as '80%' (DuckDB's default).",
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="DuckDB threads; None: one per CPU core available."
    )

    @field_validator("memory_limit")
    @classmethod
    def _duckdb_size(cls, value: str) -> str:
        text = value.strip()
        if not _DUCKDB_SIZE.fullmatch(text):
            raise ValueError(
                f"{value!r} is not a DuckDB memory size such as '1.5GiB', '800MB' or '80%'"
            )
        return text

    def effective_threads(self) -> int:
        """`threads`, else the CPU cores this process may run on."""
        if self.threads is not None:
            return self.threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)


# A DuckDB memory_limit: a number with a byte unit (decimal or binary), or a percentage.
_DUCKDB_SIZE = re.compile(r"(\d+(\.\d+)?\s*([KMGT]i?B|B|bytes)|\d+(\.\d+)?\s*%)", re.IGNORECASE)


class RecordTypeRules(BaseModel):
    """Which Opportunity record types every opportunity-based number sees, by
    RecordType.DeveloperName: a non-empty include list keeps only those (a deal without a
    record type is then left out); the exclude list drops its own (e.g. renewals)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


class SalesforceSettings(BaseModel):
    """How to reach the org. Credentials live in the Airflow connection, not here."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    conn_id: str = "salesforce_default"
    api_version: str = "62.0"
    loss_reason_field: str = "Loss_Reason__c"
    page_size: int = Field(2000, ge=200, le=2000)
    # Extraction (docs/extraction.md): incremental windows, Bulk API 2.0, resilience, limits.
    extract_mode: Literal["incremental", "full"] = Field(
        "incremental", description="'full' ignores the saved watermarks and re-pulls everything."
    )
    lookback_minutes: float = Field(
        10, ge=0, description="Each window starts this long before the last watermark."
    )
    query_method: Literal["auto", "rest", "bulk"] = Field(
        "auto", description="'auto' uses Bulk API 2.0 from bulk_threshold records (COUNT())."
    )
    bulk_threshold: int = Field(50_000, ge=1)
    bulk_max_records: int = Field(50_000, ge=1, description="Records per Bulk results request.")
    bulk_poll_seconds: float = Field(2.0, gt=0)
    bulk_poll_max_seconds: float = Field(30.0, gt=0)
    bulk_timeout_seconds: float = Field(3600.0, gt=0)
    concurrent_objects: int = Field(
        4,
        ge=1,
        le=10,
        description="Objects extracted at the same time (Salesforce allows 25 concurrent "
        "long-running requests per production org, 5 in Developer Edition and trials).",
    )
    max_query_url_chars: int = Field(
        16_000, ge=200, description="Longer SOQL is split into field groups joined on Id."
    )
    max_api_share: float = Field(
        0.5, gt=0, le=1, description="Stop before the org's daily API usage reaches this share."
    )
    retry_attempts: int = Field(6, ge=1)
    retry_backoff_seconds: float = Field(1.0, ge=0)
    retry_backoff_max_seconds: float = Field(60.0, ge=0)
    request_timeout_seconds: float = Field(120.0, gt=0)


class RunGuards(BaseModel):
    """What a run refuses to publish, and the explicit exceptions (docs/operations.md)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    allow_partial_week: bool = Field(
        False,
        description="Prepare a week that has not ended or that the source data does not reach "
        "yet; the packets then say 'partial week, data to <time>'.",
    )
    data_grace_hours: float = Field(
        72,
        ge=0,
        description="A week counts as complete when the org's freshest data is at most this "
        "long before the week's end (quiet weekends).",
    )
    max_vanished_pair_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="The quality gate fails when more than this share of last week's published "
        "pairs has no packet this week.",
    )
    accept_vanished_pairs: bool = Field(
        False, description="Publish anyway when more pairs vanished (a reorganisation)."
    )
    lease_ttl_seconds: float = Field(
        600, gt=0, description="A CLI run's lease expires this long after its last heartbeat."
    )


class StorageSettings(BaseModel):
    """Where the data shared between tasks lives (docs/deploy.md, "Object storage"): the raw
    landing zone, the extraction state, the rendered staging, the quality reports and, unless
    `shared_folder` says otherwise, the shared folder, under one fsspec URL such as
    `s3://bucket/salesprep`. Empty: all of it stays in the data directory, as before.
    Environment: SALESPREP_STORAGE__URL, __CONN_ID, __OPTIONS (JSON), __LEASE."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    url: str = Field("", description="fsspec URL of the shared root; empty: the data dir.")
    conn_id: str = Field(
        "",
        description="Airflow connection whose credentials open `url` (ObjectStoragePath); "
        "empty: fsspec's own (the environment, `options`).",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="fsspec storage options, e.g. {'client_kwargs': {'endpoint_url': ...}} "
        "for an S3-compatible server; credentials belong in the environment or `conn_id`.",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        if not text:
            return ""
        if "://" not in text:
            return str(Path(text).expanduser().resolve())
        import fsspec

        protocol = text.split("://", 1)[0]
        if protocol not in fsspec.available_protocols():
            raise ValueError(f"{protocol!r} is not an fsspec protocol such as 's3', 'gs' or 'abfs'")
        return text

    @property
    def enabled(self) -> bool:
        """Whether the shared data lives apart from the data dir (at `url`): each step then
        works in the data dir and copies what it hands on to `url`."""
        return bool(self.url)

    @property
    def protocol(self) -> str:
        """fsspec's protocol of `url` (`file` for a path)."""
        return self.url.split("://", 1)[0] if "://" in self.url else "file"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_OF_DAY = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_USER_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


def _weekday(value: str | None) -> str | None:
    if value is None:
        return None
    day = str(value).strip().lower()
    if day not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a day of the week such as 'tuesday'")
    return day


def _time_of_day(value: str | int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 10:30 as the base-60 number 630.
        value = f"{value // 60}:{value % 60:02d}"
    match = _TIME_OF_DAY.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day in 24-hour HH:MM such as '09:30'")
    return f"{int(match[1]):02d}:{match[2]}"


class MeetingSlot(BaseModel):
    """When one manager's or one pair's weekly 1:1 is; what it leaves out comes from the level
    above (the pair's manager, then the default)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    day: str | None = Field(None, description="Day of the week, e.g. 'tuesday'.")
    time: str | None = Field(None, description="Start, 24-hour HH:MM in the manager's time zone.")
    minutes: int | None = Field(None, ge=5, le=240, description="Length of the meeting.")

    @field_validator("day", mode="before")
    @classmethod
    def _known_day(cls, value: str | None) -> str | None:
        return _weekday(value)

    @field_validator("time", mode="before")
    @classmethod
    def _clock_time(cls, value: str | int | None) -> str | None:
        return _time_of_day(value)


class MeetingRules(BaseModel):
    """The pre-set weekly 1:1 that each pair's `.ics` file holds (docs/configuration.md): a
    default slot, overridden per manager and per pair (keyed by the manager's or the rep's
    Salesforce User Id, 15 or 18 characters), in the manager's time zone
    (User.TimeZoneSidKey, else org_timezone)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error

    day: str = Field("tuesday", description="Default day of the week.")
    time: str = Field("10:00", description="Default start, 24-hour HH:MM.")
    minutes: int = Field(30, ge=5, le=240, description="Default length of the meeting.")
    link_base: str = Field(
        "",
        description="Where the calendar entry's link to the week's packet starts (the shared "
        "folder's intranet URL); empty: a link relative to the .ics file.",
    )
    managers: dict[str, MeetingSlot] = Field(
        default_factory=dict, description="Manager User Id -> that manager's slot."
    )
    pairs: dict[str, MeetingSlot] = Field(
        default_factory=dict, description="Rep User Id -> the slot of that rep's 1:1."
    )

    @field_validator("day", mode="before")
    @classmethod
    def _known_day(cls, value: str) -> str:
        return _weekday(value) or value

    @field_validator("time", mode="before")
    @classmethod
    def _clock_time(cls, value: str | int) -> str:
        return _time_of_day(value) or value

    @field_validator("managers", "pairs")
    @classmethod
    def _user_ids(cls, value: dict[str, MeetingSlot]) -> dict[str, MeetingSlot]:
        for key in value:
            if not _USER_ID.match(str(key)):
                raise ValueError(
                    f"{key!r} is not a Salesforce User Id (15 or 18 letters and digits, "
                    "e.g. 005000000000001AAA)"
                )
        return value

    def slot(self, manager_id: str, rep_id: str) -> tuple[str, str, int]:
        """(day, time, minutes) of the pair's 1:1: the pair's own setting, else its manager's,
        else the default, field by field."""
        levels = [_keyed(self.pairs, rep_id), _keyed(self.managers, manager_id)]
        day, time, minutes = self.day, self.time, self.minutes
        for level in reversed(levels):
            if level is not None:
                day = level.day or day
                time = level.time or time
                minutes = level.minutes or minutes
        return day, time, minutes


def _keyed(slots: dict[str, MeetingSlot], user_id: str) -> MeetingSlot | None:
    """The slot of `user_id` (18 characters) keyed by its 18- or its 15-character form."""
    return slots.get(user_id) or slots.get(user_id[:15])


class Settings(BaseSettings):
    """Everything a weekly run needs to know. Environment: SALESPREP_<NAME>, nested with `__`."""

    model_config = SettingsConfigDict(
        env_prefix="SALESPREP_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    org_timezone: str = "UTC"
    # None follows the org: Period quarters, else Organization.FiscalYearStartMonth, else
    # January. A month overrides the org's start month (custom Period quarters still win).
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)
    # The currency of a single-currency org (no CurrencyType rows); a multi-currency org's
    # corporate currency comes from the org itself.
    currency_code: str = "USD"
    # Babel locale for money in packets (e.g. "de_DE"); None uses the org's
    # DefaultLocaleSidKey, else en_US. Formatting only: numbers never change.
    money_locale: str | None = None
    record_types: RecordTypeRules = Field(default_factory=RecordTypeRules)
    data_dir: Path = Path("salesprep-data")
    shared_folder: str = ""
    warehouse_path: Path | None = None
    dbt_target: str = "duckdb"
    # Where the run lease lives (decisions 48, 44): `file` in the data dir (one machine),
    # `postgres` as a row in the warehouse database, `object` beside the shared data on S3 (both
    # seen by workers on several hosts); `auto`: postgres when dbt_target is, else object when
    # storage.url is on S3, else file.
    run_lease: Literal["auto", "file", "postgres", "object"] = "auto"
    dbt_project_dir: Path = CHECKOUT_PROJECT_DIR
    # dbt unit tests check the SQL against fixed inputs, not the week's data: CI runs them
    # (`make test`), the weekly build leaves them out unless this is set (decision 15).
    dbt_unit_tests: bool = False
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    duckdb: DuckDBSettings = Field(default_factory=DuckDBSettings)
    quota_csv: Path | None = None
    initiatives_file: Path | None = None
    extra_stages: list[str] = Field(default_factory=list)
    # Processes that render a week's packets; None: one per CPU this process may use. A week
    # with few pairs renders in one process whatever this says.
    render_workers: int | None = Field(None, ge=1, le=64)
    metrics: MetricRules = Field(default_factory=MetricRules)
    pairs: PairRules = Field(default_factory=PairRules)
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)
    guards: RunGuards = Field(default_factory=RunGuards)
    meeting: MeetingRules = Field(default_factory=MeetingRules)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    @field_validator("org_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA timezone such as 'Europe/Berlin'") from exc
        return value

    @field_validator("currency_code")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code such as 'EUR'")
        return code

    @field_validator("money_locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(value.strip().replace("-", "_"))
        except (UnknownLocaleError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a locale Babel knows, such as 'de_DE'") from exc
        return value.strip().replace("-", "_")

    @field_validator(
        "data_dir", "warehouse_path", "quota_csv", "initiatives_file", "dbt_project_dir"
    )
    @classmethod
    def _absolute_path(cls, value: Path | None) -> Path | None:
        # Tasks hand each other these paths, possibly across processes with other working dirs.
        return value.expanduser().resolve() if value is not None else None

    @field_validator("shared_folder")
    @classmethod
    def _absolute_local_folder(cls, value: str) -> str:
        if value and "://" not in value:
            return str(Path(value).expanduser().resolve())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _DbtPostgresEnvSource(settings_cls),
            _config_file_source(settings_cls),
        )

    # Layout of the data directory: tasks hand each other these paths, never local state.
    @property
    def raw_root(self) -> Path:
        return self.data_dir / "raw"

    @property
    def learnings_path(self) -> Path:
        return self.data_dir / "learnings" / "learnings.parquet"

    @property
    def learnings_rejected_path(self) -> Path:
        return self.data_dir / "learnings" / "rejected.parquet"

    @property
    def lease_kind(self) -> Literal["file", "postgres", "object"]:
        """Where `run_lease` puts the lease; `auto`: the Postgres warehouse when dbt builds
        there, else the object store when the shared data is on S3, else the data dir."""
        if self.run_lease != "auto":
            return self.run_lease
        if self.dbt_target == "postgres":
            return "postgres"
        if self.storage.enabled and self.storage.protocol in ("s3", "s3a"):
            return "object"
        return "file"

    @property
    def build_warehouse_path(self) -> Path:
        return self.data_dir / "warehouse" / "build.duckdb"

    @property
    def published_warehouse_path(self) -> Path:
        return self.warehouse_path or self.data_dir / "warehouse" / "salesprep.duckdb"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def shared_folder_url(self) -> str:
        return self.shared_folder or self.storage_url("shared")

    def storage_url(self, *parts: str) -> str:
        """Where `parts` (e.g. `raw`) of the data shared between tasks live: under
        `storage.url`, else in the data directory."""
        root = self.storage.url or str(self.data_dir)
        return "/".join([root.rstrip("/"), *parts])

    @property
    def raw_url(self) -> str:
        """The raw landing zone that the checks and dbt read (`raw_root` is the extraction's
        local workspace; the same folder unless `storage.url` is object storage)."""
        return self.storage_url("raw") if self.storage.enabled else str(self.raw_root)


class NotificationSettings(BaseSettings):
    """Where failure alerts and "packets are ready" notices go. Read apart from `Settings` and
    tolerant of other SALESPREP_* variables, so a bad pipeline setting, often the very failure
    being reported, never silences the alert about it."""

    model_config = SettingsConfigDict(env_prefix="SALESPREP_", extra="ignore")

    alert_email: str = Field("", description="Failure alert recipients, comma or ; separated.")
    smtp_conn_id: str = "smtp_default"
    slack_conn_id: str = Field("", description="Slack incoming-webhook connection for alerts.")
    apprise_conn_id: str = Field(
        "", description="Apprise connection for alerts: Microsoft Teams or any Apprise service."
    )
    packets_base_url: str = Field(
        "", description="Where links in notices start (an intranet URL of the shared folder)."
    )

    @property
    def alert_recipients(self) -> list[str]:
        return [
            part.strip() for part in self.alert_email.replace(";", ",").split(",") if part.strip()
        ]


class _DbtPostgresEnvSource(PydanticBaseSettingsSource):
    """The `postgres` settings from SALESPREP_DBT_POSTGRES_*, the names profiles.yml has always
    read (the nested-settings spelling would be SALESPREP_POSTGRES__*); above the YAML file."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {
            name: os.environ[env]
            for name, env in PostgresSettings.env_names().items()
            if env in os.environ
        }
        return {"postgres": values} if values else {}


def _config_file_source(settings_cls: type[BaseSettings]) -> YamlConfigSettingsSource:
    """pydantic-settings' YAML source for the file named by SALESPREP_CONFIG (none: no values).
    A file that is missing, unreadable, not YAML or not a mapping is a ConfigError naming it
    (the library would skip a missing file silently); its keys are validated like any other
    source, so a misspelt nested key fails on the model's `extra="forbid"`."""
    path = os.environ.get(CONFIG_FILE_ENV)
    if not path:
        return YamlConfigSettingsSource(settings_cls, yaml_file=None)
    file = Path(path).expanduser()
    if not file.is_file():
        problem = "it is a folder" if file.is_dir() else "no such file"
        raise ConfigError(f"{CONFIG_FILE_ENV}={path}: cannot read the config file: {problem}")
    try:
        return YamlConfigSettingsSource(settings_cls, yaml_file=file, yaml_file_encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{CONFIG_FILE_ENV}={path}: cannot read the config file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{CONFIG_FILE_ENV}={path}: not valid YAML: {exc}") from exc
    except (TypeError, ValueError) as exc:  # the source merges the file's top level as a dict
        raise ConfigError(f"{CONFIG_FILE_ENV}={path}: the top level must be a mapping") from exc


@contextmanager
def environment_overrides(values: Mapping[str, str]) -> Iterator[None]:
    """Set process environment variables for the duration of a block, then restore them: for
    settings that libraries read from the environment (dbt's profiles.yml, Airflow connections)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises ConfigError naming the setting and its source."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            env_name = _env_name(error["loc"])
            source = os.environ.get(CONFIG_FILE_ENV)
            where = f"environment {env_name}" + (f" or config file {source}" if source else "")
            problems.append(f"setting {name!r} ({where}): {error['msg']}")
        raise ConfigError("; ".join(problems)) from exc


def _env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable of the setting at `loc` (a validation error's location)."""
    if len(loc) > 1 and loc[0] == "postgres":
        return PostgresSettings.env_names().get(str(loc[1]), POSTGRES_ENV_PREFIX + str(loc[1]))
    return "SALESPREP_" + "__".join(str(part).upper() for part in loc)
