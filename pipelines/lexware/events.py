"""Lexware event subscriptions (webhooks, reference §4.13): subscription management per tenant, the
signature check of a delivery, the durable event store and what a batch of events asks a run to fetch.

Events carry ids only (`{organizationId, eventType, resourceId, eventDate}`), so a run fetches the named
records afterwards ("fetch-then-reconcile"): a record is loaded as it is at fetch time, never as the
event describes it. Deliveries are at-least-once and unordered; the store keeps one row per
(tenant, eventType, resourceId, eventDate), so a retried delivery is stored once.

The store is a SQLite file beside a DuckDB warehouse (WAL mode: the receiver writes it while DuckDB's
single writer is busy), or, with a PostgreSQL warehouse, the table `meta.webhook_events` in it, so a
receiver and workers on any host share the events. An accepted event stays there until a run that
loaded it marks it processed.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.config import KontorConfig, PostgresWarehouse
from core.warehouse import connect, create_objects
from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import VersionConflictError

log = logging.getLogger(__name__)

EVENT_FIELDS = ("organizationId", "eventType", "resourceId", "eventDate")
EVENT_COLUMNS = """
    tenant TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    event_date TEXT NOT NULL,
    organization_id TEXT,
    received_at TEXT NOT NULL,
    processed_at TEXT,
    UNIQUE (tenant, event_type, resource_id, event_date)"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT,{EVENT_COLUMNS});
CREATE INDEX IF NOT EXISTS events_pending ON events (tenant, processed_at, id);
"""
POSTGRES_SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.webhook_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,{EVENT_COLUMNS});
CREATE INDEX IF NOT EXISTS webhook_events_pending ON meta.webhook_events (tenant, processed_at, id);
"""


# -- signature ---------------------------------------------------------------------------------------
def load_public_key(source: str | None) -> rsa.RSAPublicKey:
    """The PEM key that verifies `X-Lxo-Signature`, from a URL or a file (None: Lexware's published key)."""
    source = source or settings.WEBHOOK_PUBLIC_KEY_URL
    if source.startswith(("http://", "https://")):
        response = httpx.get(source, timeout=settings.CONNECT_TIMEOUT, follow_redirects=True)
        response.raise_for_status()
        pem = response.content
    else:
        pem = Path(source).read_bytes()
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{source}: not an RSA public key")
    return key


def signature_valid(key: rsa.RSAPublicKey, body: bytes, signature: str) -> bool:
    """RSA-SHA512 (PKCS#1 v1.5) over the raw body bytes, signature base64 as sent in the header."""
    try:
        key.verify(base64.b64decode(signature, validate=True), body, padding.PKCS1v15(), hashes.SHA512())
    except (InvalidSignature, ValueError):
        return False
    return True


# -- store -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    id: int
    tenant: str
    event_type: str
    resource_id: str
    event_date: str


class EventStore:
    """Received events in a SQLite file (WAL). Each call opens its own short connection, so the receiver,
    the sensor and runs in other processes share the file safely."""

    TABLE = "events"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            with con:  # one transaction, committed (durably: synchronous=FULL) on success
                con.execute("PRAGMA synchronous=FULL")
                yield con
        finally:
            con.close()

    def add(self, tenant: str, payload: dict[str, Any]) -> bool:
        """Store one event; False if it was stored before (a retried delivery)."""
        with self._connect() as con:
            row = con.execute(
                f"INSERT INTO {self.TABLE} (tenant, event_type, resource_id, event_date, organization_id, "
                "received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                [
                    tenant,
                    payload["eventType"],
                    payload["resourceId"],
                    payload["eventDate"],
                    payload.get("organizationId"),
                    datetime.now(UTC).isoformat(),
                ],
            ).fetchone()
            return row is not None

    def pending(self, tenant: str, up_to: int | None = None) -> list[Event]:
        """The tenant's events not yet processed (ids <= up_to if given), oldest first."""
        with self._connect() as con:
            rows = con.execute(
                f"SELECT id, tenant, event_type, resource_id, event_date FROM {self.TABLE} "
                "WHERE tenant = ? AND processed_at IS NULL AND id <= ? ORDER BY id",
                [tenant, up_to if up_to is not None else 2**62],
            ).fetchall()
        return [Event(*r) for r in rows]

    def pending_tenants(self) -> dict[str, tuple[int, str]]:
        """{tenant: (newest pending event id, oldest pending received_at)} for tenants with pending events."""
        with self._connect() as con:
            rows = con.execute(
                f"SELECT tenant, max(id), min(received_at) FROM {self.TABLE} WHERE processed_at IS NULL "
                "GROUP BY tenant"
            ).fetchall()
        return {tenant: (newest, oldest) for tenant, newest, oldest in rows}

    def mark_processed(self, tenant: str, ids: list[int]) -> None:
        with self._connect() as con:
            con.executemany(
                f"UPDATE {self.TABLE} SET processed_at = ? WHERE tenant = ? AND id = ?",
                [(datetime.now(UTC).isoformat(), tenant, i) for i in ids],
            )


class PostgresEventStore(EventStore):
    """Received events in the PostgreSQL warehouse (`meta.webhook_events`): the receiver, the sensor and
    runs on every host share them; each call is one autocommitted statement."""

    TABLE = "meta.webhook_events"

    def __init__(self, warehouse: PostgresWarehouse) -> None:
        self.warehouse = warehouse
        with self._connect() as con:
            create_objects(con, POSTGRES_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        with connect(self.warehouse) as con:
            yield con


def open_event_store(config: KontorConfig) -> EventStore:
    """The event store of this installation: in the PostgreSQL warehouse, or a SQLite file beside DuckDB's
    (`webhooks: store:`)."""
    if isinstance(config.warehouse, PostgresWarehouse):
        return PostgresEventStore(config.warehouse)
    if config.webhooks is None:
        raise ValueError(f"{config.path}: no `webhooks:` section, so there is no event store")
    return EventStore(config.webhooks.store)


# -- what a batch of events asks for ------------------------------------------------------------------
@dataclass
class EventTargets:
    """The records a batch of events names: contacts to GET, documents whose voucher-list row (and so
    detail and payments) to re-read, deletions to confirm by a 404 ({id: detail path})."""

    contacts: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)
    deleted_documents: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.contacts or self.documents or self.deleted_documents)


def targets(events: list[Event]) -> EventTargets:
    """Fold events (any order, duplicates allowed) into the records to fetch: the fetch reads the latest
    state anyway, so only the set of ids matters, and every deletion is confirmed before it is flagged."""
    found = EventTargets()
    for event in events:
        resource, _, action = event.event_type.partition(".")
        if resource == "contact":
            found.contacts.add(event.resource_id)
        elif resource == "payment":
            found.documents.add(event.resource_id)
        elif resource in settings.EVENT_TABLES:
            table = settings.EVENT_TABLES[resource]
            if action == "deleted":
                found.deleted_documents[event.resource_id] = (
                    f"{settings.DETAIL_ENDPOINTS_BY_TABLE[table]}/{event.resource_id}"
                )
            else:
                found.documents.add(event.resource_id)
    return found


# -- subscriptions -----------------------------------------------------------------------------------
@dataclass
class SubscriptionReport:
    tenant: str
    kept: list[str] = field(default_factory=list)  # event types already subscribed to this callback
    created: list[str] = field(default_factory=list)  # missing (never made, removed after a 410/failures)
    removed: list[str] = field(default_factory=list)  # ours, but pointing at an outdated callback URL


def ensure_subscriptions(client: LexwareClient, callback_url: str) -> SubscriptionReport:
    """Make the tenant's subscriptions exactly `settings.EVENT_TYPES` -> `callback_url`: list them, delete
    Kontor's own ones that point at another Kontor URL for this tenant (the public URL changed), create
    the missing ones (Lexware removes a subscription after a 410 or persistent failures, and all of a key's
    subscriptions when the key is revoked). Subscriptions of other integrations are left alone."""
    report = SubscriptionReport(client.name)
    path = settings.EVENT_SUBSCRIPTIONS_PATH
    suffix = "/lexware/" + client.name
    existing = client.get(path).get("content", [])
    have = set()
    for sub in existing:
        url, event_type = sub.get("callbackUrl", ""), sub.get("eventType")
        if url == callback_url and event_type in settings.EVENT_TYPES:
            have.add(event_type)
            report.kept.append(event_type)
        elif url != callback_url and url.endswith(suffix):
            client.delete(f"{path}/{sub['subscriptionId']}")
            report.removed.append(event_type)
    for event_type in settings.EVENT_TYPES:
        if event_type in have:
            continue
        # 409: created meanwhile by a concurrent call: it exists, as wanted
        with contextlib.suppress(VersionConflictError):
            client.post(path, json={"eventType": event_type, "callbackUrl": callback_url})
        report.created.append(event_type)
    if report.created or report.removed:
        log.info(
            "tenant %s: event subscriptions created %s, removed %s",
            client.name,
            report.created,
            report.removed,
        )
    return report
