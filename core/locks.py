"""Locks shared by every writer: one run per tenant at a time, across processes (and hosts).

With a PostgreSQL URL for coordination (`coordination:` in kontor.yaml: `lock_url_env`, or `url_env` with
the postgres backend) the tenant lock is a session-level advisory lock on that server, so every host
sees it; the session is held for the whole run and a crashed worker's lock ends with its connection.
Otherwise it is a file lock beside the warehouse (one host).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def advisory_lock(url: str, key: int, what: str) -> Iterator[None]:
    """Hold `pg_advisory_lock(key)` on a session of its own for the duration of the block."""
    import psycopg2

    # keepalives: a worker host that vanishes loses its session (and lock) within about a minute
    conn = psycopg2.connect(url, connect_timeout=10, keepalives=1, keepalives_idle=30,
                            keepalives_interval=10, keepalives_count=3,
                            application_name=f"kontor {what}"[:63])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))
            if not cur.fetchone()[0]:
                log.info("%s: another run is under way (advisory lock %d); waiting for it", what, key)
                cur.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        conn.close()
