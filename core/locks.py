"""Locks shared by every writer: one run per tenant at a time, across processes (and hosts).

With a PostgreSQL URL for coordination (`coordination:` in kontor.yaml: `lock_url_env`, the postgres
backend's URL or a PostgreSQL warehouse's) the tenant lock is a session-level advisory lock on that
server, so every host sees it. One session per process holds all of that process's tenant locks (a
process syncing hundreds of tenants needs one connection, not hundreds); threads of the process queue on
a thread lock per tenant first, since a session's advisory locks are re-entrant. A crashed worker's
locks end with its session. Otherwise the tenant lock is a file lock beside the warehouse (one host).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from filelock import FileLock, Timeout

from core.config import KontorConfig

log = logging.getLogger(__name__)


@contextmanager
def tenant_lock(config: KontorConfig, tenant: str) -> Iterator[None]:
    """One run per tenant at a time, across processes: a scheduled sync, a backfill, a full refresh and
    a write-back re-sync of one tenant share its dlt working folder and state, so they queue here."""
    url = config.coordination.lock_url
    if url:
        with advisory_lock(url, lock_key(config.coordination.key_prefix, tenant), f"tenant {tenant}"):
            yield
        return
    path = config.data_dir / ".dlt" / f"kontor_tenant_{tenant}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("tenant %s: another run of this tenant is under way; waiting for it", tenant)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def lock_key(prefix: str, tenant: str) -> int:
    """The advisory lock's bigint: the first 8 bytes of BLAKE2b over `<prefix>tenant:<name>` (signed)."""
    digest = hashlib.blake2b(f"{prefix}tenant:{tenant}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


POLL_S = 0.5  # how often a waiting run asks for a tenant lock held elsewhere


class AdvisorySession:
    """The process's PostgreSQL session for advisory locks at one URL (opened when first needed)."""

    _sessions: ClassVar[dict[str, AdvisorySession]] = {}
    _sessions_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None  # a psycopg2 connection once opened
        self._lock = threading.Lock()  # one statement at a time on the shared connection
        self._held: dict[int, threading.Lock] = {}  # per key: threads of this process queue here

    @classmethod
    def at(cls, url: str) -> AdvisorySession:
        with cls._sessions_lock:
            if url not in cls._sessions:
                cls._sessions[url] = cls(url)
            return cls._sessions[url]

    def _ask(self, sql: str, key: int) -> bool:
        import psycopg2

        with self._lock:
            if self._conn is None or self._conn.closed:
                # keepalives: a worker host that vanishes loses its session (and locks) within a minute
                self._conn = psycopg2.connect(
                    self.url,
                    connect_timeout=10,
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                    application_name="kontor tenant locks",
                )
                self._conn.autocommit = True
            with self._conn.cursor() as cur:
                cur.execute(sql, (key,))
                return bool(cur.fetchone()[0])

    def thread_lock(self, key: int) -> threading.Lock:
        with self._lock:
            return self._held.setdefault(key, threading.Lock())

    def try_lock(self, key: int) -> bool:
        return self._ask("SELECT pg_try_advisory_lock(%s)", key)

    def unlock(self, key: int) -> None:
        self._ask("SELECT pg_advisory_unlock(%s)", key)


@contextmanager
def advisory_lock(url: str, key: int, what: str) -> Iterator[None]:
    """Hold advisory lock `key` (and this process's thread lock for it) for the duration of the block."""
    session = AdvisorySession.at(url)
    local = session.thread_lock(key)
    waiting = not local.acquire(blocking=False)
    if waiting:
        log.info("%s: another run in this process is under way; waiting for it", what)
        local.acquire()
    try:
        if not session.try_lock(key):
            log.info("%s: another run is under way (advisory lock %d); waiting for it", what, key)
            while not session.try_lock(key):
                time.sleep(POLL_S)
        try:
            yield
        finally:
            session.unlock(key)
    finally:
        local.release()
