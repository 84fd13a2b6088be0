"""One request budget per tenant, shared by every thread and process that calls that tenant.

The budget is a model of the server's bucket: Lexware limits a key with a token bucket refilled at `rps`
(2 per second) holding `burst` tokens (reference §1.6). pyrate-limiter's `TokenBucket` (GCRA, one
theoretical-arrival time) replays that bucket on the client, paced at the server's own rate; its state
sits in `data/.ratelimit/<tenant>.sqlite` under a file lock, so a scheduled sync, a backfill and a
write-back running in separate processes draw from one bucket.

The only margin is for jitter: a request may reach the server up to `JITTER_S` earlier, relative to the
others, than its send time says, so the client may run ahead of a full pacing by the bucket's spare
tokens minus that jitter, never by more: `(burst - 1) / rps - JITTER_S` seconds (0 when the bucket
has no spare token to absorb jitter). After an idle moment (waiting for a page, a slow step of the
pipeline) the client therefore catches up instead of losing the time, and never overdraws the server's
bucket. A 429 (the server's bucket was emptier than modelled: another client on the key, a smaller
bucket) drains the model, so the next request waits a full interval; the retry policy resends.

Past one host (`coordination:` in kontor.yaml) the same model lives where every worker reaches it:
`redis` keeps each tenant's state in one Redis hash, stepped atomically by pyrate-limiter's own Lua
script (`RedisStateStore`); `postgres` keeps it in one row of `kontor_rate_budgets`, stepped under a row
lock. Each host stamps requests with its wall clock: hosts kept in step by NTP (milliseconds) stay well
inside the jitter margin.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock
from pyrate_limiter import (
    Decision,
    Rate,
    RateItem,
    StateAlgorithm,
    StateBucket,
    StateStore,
    TokenBucket,
    WallClock,
)
from pyrate_limiter.abstracts.algorithm import State
from pyrate_limiter.buckets.redis_state import RedisStateStore

from core.config import CoordinationConfig, TenantConfig
from core.warehouse import DDL_LOCK

# Arrival jitter the model absorbs: a request's network path and thread scheduling vary by less than this.
# 0.1 s held for one process on a quiet host; four worker processes on a loaded 2-core host (load 15-26)
# delayed sends by more than 0.1 and then 0.25 s and drew 429s (tests/test_multi_worker.py). At 0.5 s a
# Lexware key (2/s, 2 tokens) is paced at the server's rate and its spare token absorbs a whole interval.
JITTER_S = 0.5
# A request is this many units of the model's bucket, so the jitter margin can be a fraction of a token
UNITS = 100
_BUDGETS: dict[tuple[object, float, int], RateBudget] = {}
_BUDGETS_LOCK = threading.Lock()
_CLIENTS: dict[str, Any] = {}  # one Redis client / Postgres pool per URL and process


class SQLiteStateStore(StateStore):
    """pyrate-limiter state store in a SQLite file: one bucket's state, atomic across processes through
    a file lock beside it (and a thread lock within a process)."""

    default_clock = WallClock()  # epoch milliseconds: the same clock in every process

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._file_lock = FileLock(f"{path}.lock")
        self._lock = threading.RLock()
        with self._locked():
            # WAL without fsync per write: the state is a few numbers, cheap to lose, and the write
            # follows the token's time stamp, so it must not delay the request
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.execute("CREATE TABLE IF NOT EXISTS bucket (id INTEGER PRIMARY KEY, state TEXT)")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, self._file_lock:
            yield

    # pyrate-limiter's StateStore interface
    def _load(self, algorithm: StateAlgorithm, rates: list[Rate]) -> State:
        row = self._conn.execute("SELECT state FROM bucket WHERE id = 0").fetchone()
        values = row[0].split(",") if row and row[0] else []
        return algorithm.decode(values) if len(values) == len(rates) else algorithm.initial(rates)

    def _save(self, state: State) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO bucket (id, state) VALUES (0, ?)", [",".join(str(int(v)) for v in state)]
        )

    def check(self, algorithm: StateAlgorithm, rates: list[Rate], now: int, weight: int) -> Decision:
        with self._locked():
            # The time the token is really taken, not when the caller started waiting for the locks:
            # an earlier stamp would let the next request follow this one by less than the interval
            now = max(now, self.default_clock.now())
            new_state, decision = algorithm.step(rates, self._load(algorithm, rates), now, weight)
            if decision.allowed:
                self._save(new_state)
            return decision

    def read(self, algorithm: StateAlgorithm, rates: list[Rate]) -> State:
        with self._locked():
            return self._load(algorithm, rates)

    def push_back(self, algorithm: StateAlgorithm, rates: list[Rate], until_us: int) -> None:
        """Move the theoretical arrival times to at least `until_us` (the bucket is emptier than modelled)."""
        with self._locked():
            self._save(tuple(max(int(v), until_us) for v in self._load(algorithm, rates)))

    def reset(self) -> None:
        with self._locked():
            self._conn.execute("DELETE FROM bucket")

    def close(self) -> None:
        self._conn.close()


class RedisBudgetStore(RedisStateStore):
    """pyrate-limiter's Redis store (one hash per tenant, stepped by its Lua script) plus `push_back`."""

    _PUSH_BACK = """
    for i = 1, tonumber(ARGV[2]) do
        local held = tonumber(redis.call('HGET', KEYS[1], 'tat' .. i))
        if not held or held < tonumber(ARGV[1]) then
            redis.call('HSET', KEYS[1], 'tat' .. i, ARGV[1])
        end
    end
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    """

    def push_back(self, algorithm: StateAlgorithm, rates: list[Rate], until_us: int) -> None:
        """Move the theoretical arrival times to at least `until_us` (the bucket is emptier than modelled)."""
        script = self.redis.register_script(self._PUSH_BACK)
        client: Any = self.redis  # a synchronous client (the stubs also admit the asyncio one)
        script(keys=[self.key], args=[str(until_us), len(rates), self._ttl_for(rates)], client=client)

    def close(self) -> None:
        """The Redis client is shared by the process's budgets; it stays open."""


Step = Callable[[str], tuple[str | None, Any]]  # state text -> (new state or None, result)

POSTGRES_POOL = 8  # connections per process for the Postgres budgets: a step takes a millisecond


class PostgresBudgetStore(StateStore):
    """One row of `kontor_rate_budgets` per tenant; a step reads it `FOR UPDATE`, so processes on every
    host take tokens one at a time."""

    default_clock = WallClock()
    TABLE = "kontor_rate_budgets"

    def __init__(self, pool: Any, key: str) -> None:  # a psycopg2 ThreadedConnectionPool
        self._pool, self.key = pool, key
        # Processes starting at once collide on CREATE TABLE even with IF NOT EXISTS (a duplicate
        # pg_type row): the same transaction-scoped advisory lock as the warehouse's DDL serialises them
        self._execute(
            "SELECT pg_advisory_xact_lock(%s); "
            f"CREATE TABLE IF NOT EXISTS {self.TABLE} (key text PRIMARY KEY, state text NOT NULL)",
            (DDL_LOCK,),
        )

    def _execute(self, sql: str, args: tuple[Any, ...], step: Step | None = None) -> Any:
        """Run `sql` in one transaction; `step(state_text)` may return a new state to store."""
        conn = self._pool.getconn()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, args)
                if step is None:
                    return None
                row = cur.fetchone()
                new_state, result = step(row[0] if row else "")
                if new_state is not None:
                    cur.execute(f"UPDATE {self.TABLE} SET state = %s WHERE key = %s", (new_state, self.key))
                return result
        finally:
            self._pool.putconn(conn)

    def _locked_step(self, step: Step) -> Any:
        # the row exists before it is locked, so two first steps cannot both read "no state"
        self._execute(
            f"INSERT INTO {self.TABLE} (key, state) VALUES (%s, '') ON CONFLICT DO NOTHING", (self.key,)
        )
        return self._execute(f"SELECT state FROM {self.TABLE} WHERE key = %s FOR UPDATE", (self.key,), step)

    @staticmethod
    def _decode(algorithm: StateAlgorithm, rates: list[Rate], text: str) -> State:
        values = text.split(",") if text else []
        return algorithm.decode(values) if len(values) == len(rates) else algorithm.initial(rates)

    def check(self, algorithm: StateAlgorithm, rates: list[Rate], now: int, weight: int) -> Decision:
        def step(text: str) -> tuple[str | None, Decision]:
            at = max(now, self.default_clock.now())  # when the row lock is held, as SQLiteStateStore does
            new_state, decision = algorithm.step(rates, self._decode(algorithm, rates, text), at, weight)
            return (_encode(new_state) if decision.allowed else None), decision

        decision: Decision = self._locked_step(step)
        return decision

    def read(self, algorithm: StateAlgorithm, rates: list[Rate]) -> State:
        state: State = self._locked_step(lambda text: (None, self._decode(algorithm, rates, text)))
        return state

    def push_back(self, algorithm: StateAlgorithm, rates: list[Rate], until_us: int) -> None:
        """Move the theoretical arrival times to at least `until_us` (the bucket is emptier than modelled)."""

        def step(text: str) -> tuple[str | None, None]:
            state = self._decode(algorithm, rates, text)
            return _encode(tuple(max(int(v), until_us) for v in state)), None

        self._locked_step(step)

    def reset(self) -> None:
        self._execute(f"DELETE FROM {self.TABLE} WHERE key = %s", (self.key,))


def _encode(state: State) -> str:
    return ",".join(str(int(v)) for v in state)


class RateBudget:
    """A blocking token source: `acquire()` returns once this request may be sent."""

    def __init__(self, where: Path | StateStore, rps: float, burst: int = 1) -> None:
        """`where`: a SQLite file (this host) or a shared store (`RedisBudgetStore`,
        `PostgresBudgetStore`)."""
        if isinstance(where, Path):
            where.parent.mkdir(parents=True, exist_ok=True)
        self.where, self.rps, self.burst = where, rps, burst
        self.interval_s = 1 / rps
        self.ahead_s = max(0.0, (burst - 1) / rps - JITTER_S)  # how far the client may run ahead
        # UNITS per request, refilled at rps * UNITS per second; the bucket holds one request plus the lead
        self._rate = Rate(
            max(1, round(rps * UNITS)), 1000, burst=UNITS + math.floor(self.ahead_s * rps * UNITS)
        )
        self._store: Any = SQLiteStateStore(where) if isinstance(where, Path) else where  # has push_back
        self._bucket = StateBucket([self._rate], TokenBucket(), store=self._store)
        # Threads of one process queue here, so only one of them at a time competes for the
        # cross-process file lock and tokens are handed out in arrival order.
        self._local = threading.Lock()

    def acquire(self) -> float:
        """Block until the next request slot; return the seconds spent waiting."""
        start = time.monotonic()
        with self._local:
            while not self.try_acquire():
                waiting_ms = self._bucket.waiting(self._item())
                assert isinstance(waiting_ms, int)  # a synchronous store never returns an awaitable
                time.sleep(max(waiting_ms, 1) / 1000)
        return time.monotonic() - start

    def try_acquire(self, at_ms: int | None = None) -> bool:
        """Take a token if the model admits a request now (or at epoch-ms `at_ms`, if later)."""
        admitted = self._bucket.put(self._item(at_ms))
        assert isinstance(admitted, bool)  # a synchronous store never returns an awaitable
        return admitted

    def _item(self, at_ms: int | None = None) -> RateItem:
        return RateItem("requests", max(at_ms or 0, self._bucket.now()), weight=UNITS)

    def rejected(self) -> None:
        """The server answered 429: its bucket is empty, so the next request waits a full interval."""
        lead_ms = self.interval_s * 1000 + self.ahead_s * 1000
        until_us = int((self._bucket.now() + lead_ms) * 1000)
        self._store.push_back(self._bucket.algorithm, self._bucket.rates, until_us)


def budget_for(path: Path, rps: float, burst: int = 1) -> RateBudget:
    """The process-wide budget for a bucket file (one per tenant), created on first use."""
    key = (Path(path).resolve(), float(rps), int(burst))
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = RateBudget(key[0], key[1], key[2])
        return _BUDGETS[key]


def tenant_budget(tenant: TenantConfig) -> RateBudget:
    """The process-wide budget of a tenant, where `coordination:` says: its SQLite file on this host, or
    one shared bucket in Redis / PostgreSQL for every process on every host."""
    coord = tenant.coordination
    if coord.backend == "local":
        return budget_for(tenant.ratelimit_path, tenant.rps, tenant.burst)
    name = f"{coord.key_prefix}ratelimit:{tenant.name}"
    key = ((coord.backend, coord.url_env, name), float(tenant.rps), int(tenant.burst))
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = RateBudget(_shared_store(coord, name), tenant.rps, tenant.burst)
        return _BUDGETS[key]


def _shared_store(coord: CoordinationConfig, name: str) -> StateStore:
    url = coord.url
    client = _CLIENTS.get(url)
    if coord.backend == "redis":
        if client is None:
            import redis

            client = _CLIENTS[url] = redis.Redis.from_url(
                url, socket_connect_timeout=5, socket_timeout=10, health_check_interval=30
            )
        return RedisBudgetStore(client, name)
    if client is None:
        from psycopg2.pool import ThreadedConnectionPool

        client = _CLIENTS[url] = ThreadedConnectionPool(1, POSTGRES_POOL, url, connect_timeout=5)
    return PostgresBudgetStore(client, name)
