"""Kontor configuration: `kontor.yaml` (or the file named by `KONTOR_CONFIG`).

The file names tenants and the environment variable that holds each tenant's API key; the key itself
is read from the environment only when a client needs it and never appears in a repr, log or error.
The file is checked once, when it is loaded, against a strict schema (`KontorFile`, pydantic): exact
types, ranges, no unknown keys ("did you mean ..."). Every problem is one line naming file, tenant and
field; `python -m pipelines.cli check-config` shows them to an operator.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_ENV = "KONTOR_CONFIG"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "kontor.yaml"
TENANT_NAME = re.compile(r"^[a-z0-9_]+$")
SYSTEMS = ("lexware", "sevdesk")
DEFAULT_BASE_URLS = {"sevdesk": "https://my.sevdesk.de/api/v1"}  # lexware: base_url is required
# sevDesk publishes no rate limit and none was observed up to 18 req/s (reference §7.4): a polite budget
DEFAULT_RPS_BY_SYSTEM = {"sevdesk": 10.0}

# The server's token bucket (reference §1.6): refilled at 2 requests/second, holding `burst` tokens
# (undocumented; 2 in the reference's sources). The client models it exactly (core/ratelimit.py);
# its one spare token absorbs network jitter. Tunable per tenant in kontor.yaml.
DEFAULT_RPS = 2.0
DEFAULT_BURST = 2
DEFAULT_MAX_IN_FLIGHT = 4
MAX_RPS = 1000.0  # the sandboxes' raised limit; the real API allows 2/s
MAX_IN_FLIGHT = 64
MAX_BURST = 1000


class ConfigError(ValueError):
    """kontor.yaml is missing, unreadable or invalid; each line names file, tenant and field."""


# -- the schema of kontor.yaml -------------------------------------------------------------------------
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TenantEntry(BaseModel):
    """One entry of `tenants:`."""

    model_config = _STRICT

    name: Annotated[str, StringConstraints(pattern=TENANT_NAME.pattern)]
    system: Literal["lexware", "sevdesk"] = "lexware"
    base_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+")]
    api_key_env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    rps: float = Field(default=DEFAULT_RPS, gt=0, le=MAX_RPS)
    burst: int = Field(default=DEFAULT_BURST, ge=1, le=MAX_BURST)
    max_in_flight: int = Field(default=DEFAULT_MAX_IN_FLIGHT, ge=1, le=MAX_IN_FLIGHT)
    organization_id: (
        Annotated[
            str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        ]
        | None
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _system_defaults(cls, data: object) -> object:
        """A system's own defaults for what the entry leaves out (sevDesk: its base URL and budget)."""
        if isinstance(data, dict) and isinstance(system := data.get("system", "lexware"), str):
            if "base_url" not in data and system in DEFAULT_BASE_URLS:
                data = {**data, "base_url": DEFAULT_BASE_URLS[system]}
            if "rps" not in data and system in DEFAULT_RPS_BY_SYSTEM:
                data = {**data, "rps": DEFAULT_RPS_BY_SYSTEM[system]}
        return data

    @field_validator("rps")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class WebhooksEntry(BaseModel):
    """`webhooks:`: where Lexware reaches the event receiver (optional; polling only without it)."""

    model_config = _STRICT

    public_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+")]
    public_key: _Text | None = None  # URL or file path of the signing key (default: Lexware's)
    store: _Text | None = None  # the event store's SQLite file (default: beside the warehouse)


ENGINES = ("duckdb", "postgres")
DEFAULT_DUCKDB = "data/warehouse.duckdb"
_EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class WarehouseEntry(BaseModel):
    """`warehouse:` as a mapping: the engine and where it lives (a plain string is a DuckDB file's path).
    PostgreSQL's connection URL (with its password) comes from the environment variable `url_env`."""

    model_config = _STRICT

    engine: Literal["duckdb", "postgres"] = "duckdb"
    path: _Text | None = None  # duckdb: the file
    url_env: _EnvName | None = None  # postgres: the NAME of the variable holding the URL
    data_dir: _Text | None = None  # postgres: local state (dlt folders, rate-limit buckets, events)

    @model_validator(mode="after")
    def _fits_engine(self) -> WarehouseEntry:
        if self.engine == "postgres":
            if self.url_env is None:
                raise ValueError(
                    "engine 'postgres' needs 'url_env': the NAME of the environment variable "
                    "holding the connection URL (e.g. KONTOR_WAREHOUSE_URL)"
                )
            if self.path is not None:
                raise ValueError(
                    "'path' is the DuckDB file; engine 'postgres' reads its URL from 'url_env' "
                    "(local state goes to 'data_dir')"
                )
        elif self.url_env is not None:
            raise ValueError("'url_env' is for engine 'postgres'; engine 'duckdb' takes 'path'")
        return self


class CoordinationEntry(BaseModel):
    """`coordination:`: where the processes of every host meet (optional; default: this host only).

    `backend` holds the tenants' rate budgets: `local` (a SQLite file per tenant beside the warehouse),
    `redis` or `postgres` (one shared bucket per tenant, reached through the URL in `url_env`; postgres
    defaults to a PostgreSQL warehouse's URL). Tenant locks are PostgreSQL advisory locks when a Postgres
    URL is known (`lock_url_env`, the postgres backend's URL, or a PostgreSQL warehouse's), file locks
    otherwise."""

    model_config = _STRICT

    backend: Literal["local", "redis", "postgres"] = "local"
    url_env: _EnvName | None = None
    lock_url_env: _EnvName | None = None
    key_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_:.-]{1,64}$")] = "kontor:"


class KontorFile(BaseModel):
    """The whole file: where the warehouse lives, the tenants and (optionally) webhooks."""

    model_config = _STRICT

    warehouse: WarehouseEntry = WarehouseEntry()
    tenants: list[TenantEntry] = Field(min_length=1)
    webhooks: WebhooksEntry | None = None
    coordination: CoordinationEntry | None = None

    @model_validator(mode="before")
    @classmethod
    def _warehouse_path(cls, data: object) -> object:
        """`warehouse: <path>` (the original form) is a DuckDB file."""
        if isinstance(data, dict) and isinstance(data.get("warehouse"), str):
            path = data["warehouse"].strip()
            data = {**data, "warehouse": {"engine": "duckdb", "path": path} if path else path}
        return data


_HINTS = {
    "name": "[a-z0-9_]+ (it becomes the Dagster partition key and tenant_id)",
    "base_url": "a URL starting with http:// or https:// (real API: https://api.lexware.io)",
    "api_key_env": "the NAME of an environment variable ([A-Za-z_][A-Za-z0-9_]*), not the key",
    "system": f"one of {list(SYSTEMS)}",
    "rps": f"a number > 0 and <= {MAX_RPS:g} (Lexware allows 2 requests/second)",
    "burst": f"a whole number from 1 to {MAX_BURST} (the server's bucket size; Lexware: 2)",
    "max_in_flight": f"a whole number from 1 to {MAX_IN_FLIGHT}",
    "organization_id": "the organizationId of GET /v1/profile (a lowercase UUID)",
    "warehouse": "a path to the DuckDB file (a string)",
    "engine": f"one of {list(ENGINES)}",
    "url_env": "the NAME of an environment variable ([A-Za-z_][A-Za-z0-9_]*) holding the URL, not the URL",
    "path": "a path to the DuckDB file (a string)",
    "data_dir": "a folder for local state (a string)",
    "tenants": "a non-empty list of tenants",
    "public_url": "the receiver's public URL, starting with http:// or https://",
    "backend": "one of ['local', 'redis', 'postgres']",
    "lock_url_env": "the NAME of the environment variable holding a PostgreSQL URL, not the URL",
    "key_prefix": "1-64 characters of [A-Za-z0-9_:.-] (the Redis keys' or table rows' prefix)",
}


# -- the loaded configuration --------------------------------------------------------------------------
@dataclass(frozen=True)
class CoordinationConfig:
    """`coordination:` in kontor.yaml: where rate budgets and tenant locks live (URLs from the environment
    only, read when first needed)."""

    backend: str = "local"  # local | redis | postgres
    url_env: str | None = None
    lock_url_env: str | None = None
    key_prefix: str = "kontor:"

    @property
    def url(self) -> str:
        """The backend's URL from the environment; `ConfigError` naming the variable if it is unset."""
        return _env_url(self.url_env, "url_env", self.backend)

    @property
    def lock_url(self) -> str | None:
        """The PostgreSQL URL of the advisory tenant locks, or None (file locks on this host)."""
        if self.lock_url_env:
            return _env_url(self.lock_url_env, "lock_url_env", "postgres")
        return self.url if self.backend == "postgres" else None

    @property
    def env_names(self) -> tuple[str, ...]:
        """The environment variables this section needs (for check-config)."""
        return tuple(n for n in (self.url_env, self.lock_url_env) if n)


def _env_url(name: str | None, field_name: str, what: str) -> str:
    value = os.environ.get(name or "", "")
    if not value:
        raise ConfigError(
            f"coordination: environment variable {name} ({field_name}) is not set; "
            f"it must hold the {what} URL"
        )
    return value


@dataclass(frozen=True)
class TenantConfig:
    """One tenant: a Lexware organisation reached with one API key."""

    name: str
    base_url: str
    api_key_env: str
    system: str = "lexware"
    rps: float = DEFAULT_RPS
    burst: int = DEFAULT_BURST
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    state_dir: Path = field(default=Path("data"), compare=False)
    organization_id: str | None = None  # pinned in kontor.yaml: the only organisation this tenant may read
    coordination: CoordinationConfig = field(default=CoordinationConfig(), compare=False)

    @property
    def api_key(self) -> str:
        """The API key from the environment; `ConfigError` naming the variable if it is unset."""
        key = os.environ.get(self.api_key_env, "")
        if not key:
            raise ConfigError(
                f"tenant {self.name!r}: environment variable {self.api_key_env} (api_key_env) is not set"
            )
        return key

    @property
    def ratelimit_path(self) -> Path:
        """The SQLite file holding this tenant's rate-limit bucket, shared by every process."""
        return self.state_dir / ".ratelimit" / f"{self.name}.sqlite"


@dataclass(frozen=True)
class WebhookConfig:
    """`webhooks:` in kontor.yaml: where Lexware reaches the event receiver and how it checks signatures."""

    public_url: str  # the receiver's public base URL; a tenant's callback is <public_url>/lexware/<tenant>
    public_key: str | None = None  # URL or file of the signing key (PEM); None: Lexware's published key
    store: Path = Path("data/events.sqlite")  # received events, durable until a run has loaded them

    def callback_url(self, tenant: str) -> str:
        return f"{self.public_url}/lexware/{tenant}"


@dataclass(frozen=True)
class PostgresWarehouse:
    """`warehouse: {engine: postgres, url_env: VAR}`: the database at the URL in `$VAR`. Holds the variable's
    name only; the URL (with its password) is read when a connection is made and never shown."""

    url_env: str
    data_dir: Path  # local state: dlt working folders, rate-limit buckets, the events store
    engine: ClassVar[str] = "postgres"

    @property
    def url(self) -> str:
        """The connection URL from the environment; `ConfigError` naming the variable if it is unset."""
        url = os.environ.get(self.url_env, "").strip()
        if not url:
            raise ConfigError(
                f"warehouse: environment variable {self.url_env} (url_env) is not set; "
                "export the PostgreSQL URL there, e.g. postgresql://kontor:...@host:5432/kontor"
            )
        if not re.match(r"^postgres(ql)?://[^/]*/[^/?]+", url):
            raise ConfigError(
                f"warehouse: environment variable {self.url_env} must hold a URL "
                "postgresql://user[:password]@host[:port]/database"
            )
        return url

    def __str__(self) -> str:
        return f"PostgreSQL (URL in ${self.url_env})"


@dataclass(frozen=True)
class KontorConfig:
    path: Path
    warehouse: Path | PostgresWarehouse  # a DuckDB file, or a PostgreSQL database
    tenants: tuple[TenantConfig, ...]
    webhooks: WebhookConfig | None = None  # None: no event subscriptions, polling only
    coordination: CoordinationConfig = CoordinationConfig()  # default: budgets and locks on this host

    @property
    def engine(self) -> str:
        return "postgres" if isinstance(self.warehouse, PostgresWarehouse) else "duckdb"

    @property
    def data_dir(self) -> Path:
        if isinstance(self.warehouse, PostgresWarehouse):
            return self.warehouse.data_dir
        return self.warehouse.parent

    def tenant(self, name: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        raise ConfigError(
            f"{self.path}: no tenant named {name!r} (known: {[t.name for t in self.tenants]}); "
            f"this is the file read - set {CONFIG_ENV} (or pass --config) to use another"
        )


def config_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).resolve()


def load_config(path: str | Path | None = None) -> KontorConfig:
    """Read and validate the config; relative paths resolve against the config file's folder."""
    path = config_path(path)
    doc = _read(path)
    try:
        parsed = KontorFile.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError("\n".join(_problems(path, doc, exc))) from None
    names = [t.name for t in parsed.tenants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: duplicate tenant names {duplicates}")
    warehouse = _warehouse(path, parsed.warehouse)
    data_dir = warehouse.data_dir if isinstance(warehouse, PostgresWarehouse) else warehouse.parent
    coordination = _coordination(path, parsed.coordination, warehouse)
    tenants = tuple(
        TenantConfig(
            name=t.name,
            base_url=t.base_url.rstrip("/"),
            api_key_env=t.api_key_env,
            system=t.system,
            rps=t.rps,
            burst=t.burst,
            max_in_flight=t.max_in_flight,
            state_dir=data_dir,
            organization_id=t.organization_id,
            coordination=coordination,
        )
        for t in parsed.tenants
    )
    return KontorConfig(
        path=path,
        warehouse=warehouse,
        tenants=tenants,
        webhooks=_webhooks(path, parsed.webhooks, data_dir),
        coordination=coordination,
    )


def _coordination(
    path: Path, entry: CoordinationEntry | None, warehouse: Path | PostgresWarehouse
) -> CoordinationConfig:
    """`coordination:` with the PostgreSQL warehouse's URL as the default for Postgres budgets and locks."""
    entry = entry or CoordinationEntry()
    pg_env = warehouse.url_env if isinstance(warehouse, PostgresWarehouse) else None
    url_env = entry.url_env or (pg_env if entry.backend == "postgres" else None)
    if entry.backend != "local" and url_env is None:
        raise ConfigError(
            f"{path}: coordination: backend {entry.backend!r} needs 'url_env': the NAME of the "
            f"environment variable holding its URL"
            + (" (or a PostgreSQL warehouse, whose URL it then uses)" if entry.backend == "postgres" else "")
        )
    lock_env = entry.lock_url_env or (url_env if entry.backend == "postgres" else pg_env)
    return CoordinationConfig(
        backend=entry.backend, url_env=url_env, lock_url_env=lock_env, key_prefix=entry.key_prefix
    )


def _warehouse(path: Path, entry: WarehouseEntry) -> Path | PostgresWarehouse:
    """The DuckDB file (checked: it can be created), or the PostgreSQL database and its local state."""
    if entry.engine == "postgres":
        data_dir = path.parent / (entry.data_dir or "data")
        _check_folder(path, data_dir, "data_dir")
        return PostgresWarehouse(url_env=entry.url_env or "", data_dir=data_dir)
    warehouse = path.parent / (entry.path or DEFAULT_DUCKDB)
    _check_warehouse(path, warehouse)
    return warehouse


def _webhooks(path: Path, entry: WebhooksEntry | None, data_dir: Path) -> WebhookConfig | None:
    if entry is None:
        return None
    key = entry.public_key
    if key and not re.match(r"^https?://", key):
        key = str(path.parent / key)  # a file path, relative to the config's folder
    return WebhookConfig(
        public_url=entry.public_url.rstrip("/"),
        public_key=key,
        store=path.parent / entry.store if entry.store else data_dir / "events.sqlite",
    )


def _read(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (set {CONFIG_ENV} or create kontor.yaml)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file (set {CONFIG_ENV} to the file)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); save the file as UTF-8"
        ) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: top level must be a mapping with 'warehouse' and 'tenants'")
    return doc


def _problems(path: Path, doc: object, exc: ValidationError) -> list[str]:
    """One line per problem: file, tenant (by name where it has one), field, what is expected."""
    lines = []
    for error in exc.errors():
        loc = list(error["loc"])
        where = f"{path}:"
        if loc[:1] == ["tenants"] and len(loc) >= 2 and isinstance(loc[1], int):
            item = doc["tenants"][loc[1]] if isinstance(doc, dict) else None
            name = item.get("name") if isinstance(item, dict) else None
            named = isinstance(name, str) and TENANT_NAME.match(name)
            where += f" tenant {name!r}:" if named else f" tenants[{loc[1]}]:"
            loc = loc[2:]
            allowed = TenantEntry.model_fields
        elif loc[:1] == ["webhooks"] and len(loc) >= 2:
            where += " webhooks:"
            loc = loc[1:]
            allowed = WebhooksEntry.model_fields
        elif loc[:1] == ["coordination"] and len(loc) >= 1:
            where += " coordination:"
            loc = loc[1:]
            allowed = CoordinationEntry.model_fields
        elif loc[:1] == ["warehouse"] and isinstance(doc, dict) and isinstance(doc.get("warehouse"), dict):
            where += " warehouse:"
            loc = loc[1:]
            allowed = WarehouseEntry.model_fields
            if not loc and error["type"] == "value_error":  # the engine's fields do not fit together
                lines.append(f"{where} {str(error['msg']).removeprefix('Value error, ')}")
                continue
        else:
            allowed = KontorFile.model_fields
        key = str(loc[0]) if loc else None
        if error["type"] == "extra_forbidden" and key is not None:
            lines.append(f"{where} unknown field {key!r}{_did_you_mean(key, allowed)}")
        elif key == "api_key":
            lines.append(f"{where} never put the key in the config; name its variable in 'api_key_env'")
        elif error["type"] == "missing":
            lines.append(f"{where} field {key!r} is required: {_HINTS.get(key or '', '')}".rstrip(": "))
        elif key is None and error["type"] == "value_error":
            lines.append(f"{where} {error['msg'].removeprefix('Value error, ')}")
        elif key is None:
            what = "tenants entry" if where.endswith("]:") else "section" if where.endswith("n:") else "file"
            lines.append(f"{where} {what} must be a mapping")
        else:
            got = error.get("input")
            hint = _HINTS.get(key)
            lines.append(
                f"{where} field {key!r} must be {hint}, got {got!r}"
                if hint
                else f"{where} field {key!r}: {error['msg']}, got {got!r}"
            )
    return lines or [f"{path}: invalid"]


def _did_you_mean(key: str, allowed: dict[str, Any]) -> str:
    if key == "api_key":
        return "; never put the key in the config, name its variable in 'api_key_env'"
    if key in ("url", "password", "dsn") and "url_env" in allowed:
        return "; never put the URL or password in the config, name its variable in 'url_env'"
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    known = ", ".join(allowed)
    return f" - did you mean {close[0]!r}? (known: {known})" if close else f" (known: {known})"


def _check_warehouse(path: Path, warehouse: Path) -> None:
    """The warehouse must be a file in a folder Kontor can create or write to (checked, not created)."""
    where = f"{path}: field 'warehouse'"
    if warehouse.is_dir():
        raise ConfigError(f"{where}: {warehouse} is a folder; name the DuckDB file inside it")
    folder = warehouse.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{where}: {existing} is a file, so {folder} cannot be a folder")
    if not os.access(existing, os.W_OK | os.X_OK) or _pseudo_filesystem(existing):
        raise ConfigError(f"{where}: cannot create {warehouse} (no write access to {existing})")


def _check_folder(path: Path, folder: Path, name: str) -> None:
    """A folder Kontor can create or write to (checked, not created)."""
    where = f"{path}: warehouse field {name!r}"
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{where}: {existing} is a file, so {folder} cannot be a folder")
    if not os.access(existing, os.W_OK | os.X_OK) or _pseudo_filesystem(existing):
        raise ConfigError(f"{where}: cannot create {folder} (no write access to {existing})")


def _pseudo_filesystem(folder: Path) -> bool:
    """/proc, /sys and /dev accept no new files, whatever `os.access` says for root."""
    resolved = folder.resolve()
    return any(resolved == Path(p) or Path(p) in resolved.parents for p in ("/proc", "/sys", "/dev"))
