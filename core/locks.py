"""Locks shared by every writer: one run per tenant at a time, across processes."""

from __future__ import annotations

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
