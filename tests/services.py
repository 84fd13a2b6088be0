"""PostgreSQL and Redis for the tests, through one setting each (CONTRIBUTING.md, "Services"):

    KONTOR_TEST_POSTGRES  default postgresql://postgres@127.0.0.1:5432/test   (an admin connection)
    KONTOR_TEST_REDIS     default redis://127.0.0.1:6379/0

Every test run creates its own databases (`kontor_t_<run>_<n>`) and Redis key prefix and removes them.
Without a reachable server the tests that need it skip with one loud line; under CI=true they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL = os.environ.get("KONTOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KONTOR_TEST_REDIS", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]


def _unavailable(what: str, url: str, exc: Exception) -> None:
    """Skip loudly (one line), or fail under CI=true, where the services must be there."""
    reason = (
        f"{what} not reachable at {redact(url)} ({str(exc).splitlines()[0] if str(exc) else exc!r}); "
        f"start it or set {'KONTOR_TEST_POSTGRES' if what == 'PostgreSQL' else 'KONTOR_TEST_REDIS'}"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def redact(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def database_url(name: str) -> str:
    """The admin URL pointed at database `name`."""
    return urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))


def admin_connection():
    """An autocommit psycopg2 connection to the admin database (skips/fails as the module says)."""
    import psycopg2

    try:
        con = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        _unavailable("PostgreSQL", POSTGRES_URL, exc)
    con.autocommit = True
    return con


_counter = iter(range(1_000_000))


@contextmanager
def postgres_database(label: str = "db") -> Iterator[str]:
    """A fresh database for one test or module; yields its URL and drops it afterwards."""
    name = f"kontor_t_{RUN_ID}_{label}_{next(_counter)}"[:63]
    admin = admin_connection()
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield database_url(name)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@contextmanager
def redis_prefix(label: str = "keys") -> Iterator[str]:
    """A key prefix of this run on the test Redis; every key under it is deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", REDIS_URL, exc)
    prefix = f"kontor_t:{RUN_ID}:{label}:{next(_counter)}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
