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
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

# Arrival jitter the model absorbs: a request's network path and thread scheduling vary by less than this
JITTER_S = 0.1
# A request is this many units of the model's bucket, so the jitter margin can be a fraction of a token
UNITS = 100
_BUDGETS: dict[tuple[Path, float, int], RateBudget] = {}
_BUDGETS_LOCK = threading.Lock()


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
        self._conn.execute("INSERT OR REPLACE INTO bucket (id, state) VALUES (0, ?)",
                           [",".join(str(int(v)) for v in state)])

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


class RateBudget:
    """A blocking token source: `acquire()` returns once this request may be sent."""

    def __init__(self, path: Path, rps: float, burst: int = 1) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.rps, self.burst = path, rps, burst
        self.interval_s = 1 / rps
        self.ahead_s = max(0.0, (burst - 1) / rps - JITTER_S)  # how far the client may run ahead
        # UNITS per request, refilled at rps * UNITS per second; the bucket holds one request plus the lead
        self._rate = Rate(max(1, round(rps * UNITS)), 1000,
                          burst=UNITS + math.floor(self.ahead_s * rps * UNITS))
        self._store = SQLiteStateStore(path)
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
