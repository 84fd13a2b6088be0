"""One request budget per tenant, shared by every thread and process that calls that tenant.

pyrate-limiter's SQLite bucket (sliding-window log, guarded by a file lock) lives in
`data/.ratelimit/<tenant>.sqlite`; a scheduled sync, a backfill and a write-back running in separate
processes all draw from it. The budget spaces requests evenly (one per `1/rps` seconds, no burst): the
server's token bucket then stays near full and jitter in network latency cannot cause a 429.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

from pyrate_limiter import Rate, RateItem, SQLiteBucket

# Sleep this much past the computed slot: enough to absorb clock granularity, small enough not to
# eat into the budget (a 50 ms buffer would cost ~10 % at 2 rps).
BUFFER_MS = 2
_BUDGETS: dict[tuple[Path, float], RateBudget] = {}
_BUDGETS_LOCK = threading.Lock()


class RateBudget:
    """A blocking token source: `acquire()` returns once this request may be sent."""

    def __init__(self, path: Path, rps: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rps = rps
        self.interval_ms = math.ceil(1000 / rps)
        bucket = SQLiteBucket.init_from_file(
            [Rate(1, self.interval_ms)], table="requests", db_path=str(path), use_file_lock=True
        )
        self._bucket = bucket
        self._taken = 0
        # Threads of one process queue here, so only one of them at a time competes for the
        # cross-process file lock (which polls) and tokens are handed out in arrival order.
        self._local = threading.Lock()

    def acquire(self) -> float:
        """Block until the next request slot; return the seconds spent waiting."""
        start = time.monotonic()
        with self._local:
            while not self._try_take():
                last = self._bucket.peek(0)
                due_ms = (last.timestamp + self.interval_ms - self._bucket.now()) if last else 0
                time.sleep(max(due_ms + BUFFER_MS, BUFFER_MS) / 1000)
            self._taken += 1
            if self._taken % 200 == 0:
                self._bucket.leak(self._bucket.now())
        return time.monotonic() - start

    def _try_take(self) -> bool:
        # Check-and-insert under the bucket's cross-process file lock, stamped with the time the
        # token is really taken (so waiting processes can never drift closer than the interval).
        with self._bucket.lock:
            return self._bucket.put(RateItem("requests", self._bucket.now()))


def budget_for(path: Path, rps: float) -> RateBudget:
    """The process-wide budget for a bucket file (one per tenant), created on first use."""
    key = (Path(path).resolve(), float(rps))
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = RateBudget(key[0], key[1])
        return _BUDGETS[key]
