"""Kontor configuration: `kontor.yaml` (or the file named by `KONTOR_CONFIG`).

The file names tenants and the environment variable that holds each tenant's API key; the key itself
is read from the environment only when a client needs it and never appears in a repr, log or error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CONFIG_ENV = "KONTOR_CONFIG"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "kontor.yaml"
TENANT_NAME = re.compile(r"^[a-z0-9_]+$")
SYSTEMS = ("lexware", "sevdesk")
DEFAULT_BASE_URLS = {"sevdesk": "https://my.sevdesk.de/api/v1"}  # lexware: base_url is required
# sevDesk publishes no rate limit and none was observed up to 18 req/s (reference §7.4): a polite budget
DEFAULT_RPS_BY_SYSTEM = {"sevdesk": 10.0}

# Rate budget: a bit under Lexware's 2 requests/second, requests spaced evenly (no burst), so network
# jitter never pushes the server's token bucket below zero. Tunable per tenant in kontor.yaml.
DEFAULT_RPS = 1.9
DEFAULT_MAX_IN_FLIGHT = 4


class ConfigError(ValueError):
    """kontor.yaml is missing, unreadable or invalid; the message names file, tenant and field."""


@dataclass(frozen=True)
class TenantConfig:
    """One tenant: a Lexware organisation reached with one API key."""

    name: str
    base_url: str
    api_key_env: str
    system: str = "lexware"
    rps: float = DEFAULT_RPS
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    state_dir: Path = field(default=Path("data"), compare=False)

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
class KontorConfig:
    path: Path
    warehouse: Path
    tenants: tuple[TenantConfig, ...]

    @property
    def data_dir(self) -> Path:
        return self.warehouse.parent

    def tenant(self, name: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        raise ConfigError(f"{self.path}: no tenant named {name!r} (known: {[t.name for t in self.tenants]})")


def config_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).resolve()


def load_config(path: str | Path | None = None) -> KontorConfig:
    """Read and validate the config; relative paths resolve against the config file's folder."""
    path = config_path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found (set {CONFIG_ENV} or create kontor.yaml)") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: top level must be a mapping with 'warehouse' and 'tenants'")
    warehouse = path.parent / str(doc.get("warehouse") or "data/warehouse.duckdb")
    raw_tenants = doc.get("tenants")
    if not isinstance(raw_tenants, list) or not raw_tenants:
        raise ConfigError(f"{path}: 'tenants' must be a non-empty list")
    tenants = [_tenant(path, i, item, warehouse.parent) for i, item in enumerate(raw_tenants)]
    names = [t.name for t in tenants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: duplicate tenant names {duplicates}")
    return KontorConfig(path=path, warehouse=warehouse, tenants=tuple(tenants))


def _tenant(path: Path, index: int, item: object, data_dir: Path) -> TenantConfig:
    where = f"{path}: tenants[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a mapping")
    name = item.get("name")
    if not isinstance(name, str) or not TENANT_NAME.match(name):
        raise ConfigError(f"{where}: field 'name' must match [a-z0-9_]+, got {name!r}")
    where = f"{path}: tenant {name!r}"
    if "api_key" in item:
        raise ConfigError(f"{where}: never put the key in the config; name its variable in 'api_key_env'")
    system = item.get("system", "lexware")
    if system not in SYSTEMS:
        raise ConfigError(f"{where}: field 'system' must be one of {SYSTEMS}, got {system!r}")
    if system in DEFAULT_BASE_URLS and not item.get("base_url"):
        item = {**item, "base_url": DEFAULT_BASE_URLS[system]}
    for key in ("base_url", "api_key_env"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise ConfigError(f"{where}: field {key!r} is required (a string)")
    if not re.match(r"^https?://", item["base_url"]):
        raise ConfigError(f"{where}: field 'base_url' must start with http:// or https://")
    try:
        rps = float(item.get("rps", DEFAULT_RPS_BY_SYSTEM.get(system, DEFAULT_RPS)))
        max_in_flight = int(item.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: fields 'rps'/'max_in_flight' must be numbers") from exc
    if rps <= 0 or max_in_flight < 1:
        raise ConfigError(f"{where}: 'rps' must be > 0 and 'max_in_flight' >= 1")
    return TenantConfig(
        name=name,
        base_url=item["base_url"].rstrip("/"),
        api_key_env=item["api_key_env"],
        system=system,
        rps=rps,
        max_in_flight=max_in_flight,
        state_dir=data_dir,
    )
