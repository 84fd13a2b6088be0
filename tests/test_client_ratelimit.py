"""The per-tenant rate budget is shared by processes: together they stay within one rate."""

import itertools
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from core.ratelimit import budget_for

WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from core.ratelimit import budget_for
    budget = budget_for(Path(sys.argv[1]), float(sys.argv[2]))
    stamps = []
    for _ in range(int(sys.argv[3])):
        budget.acquire()
        stamps.append(time.time())
    print(json.dumps(stamps))
""")


def test_budget_is_shared_across_processes(tmp_path: Path) -> None:
    rps, per_process, processes = 20.0, 15, 3
    bucket = tmp_path / "tenant.sqlite"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(bucket), str(rps), str(per_process)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        for _ in range(processes)
    ]
    stamps = sorted(t for p in procs for t in json.loads(p.communicate(timeout=60)[0]))
    assert all(p.returncode == 0 for p in procs)
    assert len(stamps) == per_process * processes
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # Evenly spaced: no two requests much closer than the interval (a stamp is taken after `acquire`, so
    # scheduling jitter on a busy machine may shift one a little; unshared budgets would give gaps near 0),
    # and the whole run no faster than the rate.
    assert min(gaps) >= 0.5 / rps
    assert (len(stamps) - 1) / (stamps[-1] - stamps[0]) <= rps


def test_budget_threads_share_one_process_budget(tmp_path: Path) -> None:
    import threading
    import time

    budget = budget_for(tmp_path / "t.sqlite", 25.0)
    stamps: list[float] = []

    def take() -> None:
        for _ in range(10):
            budget.acquire()
            stamps.append(time.time())

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 40
    assert min(b - a for a, b in itertools.pairwise(stamps)) >= 0.5 / 25.0
    assert (len(stamps) - 1) / (stamps[-1] - stamps[0]) <= 25.0


def test_budget_models_the_servers_bucket_minus_the_jitter_margin(tmp_path: Path) -> None:
    """A bucket of 2 tokens refilled at 2/s: after an idle spell the client may send the next request
    early by the spare token minus the jitter margin (400 ms), never more, and then one per 500 ms."""
    from core.ratelimit import JITTER_S, RateBudget

    budget = RateBudget(tmp_path / "t.sqlite", rps=2.0, burst=2)
    lead_ms = round((0.5 - JITTER_S) * 1000)
    t0 = int(time.time() * 1000) + 60_000  # a minute ahead: the wall clock cannot overtake these stamps
    assert budget.try_acquire(t0)
    assert not budget.try_acquire(t0 + 500 - lead_ms - 2)  # earlier than the bucket can absorb
    assert budget.try_acquire(t0 + 500 - lead_ms + 1)
    # from then on the model is in debt: one request per interval, whatever the client wants
    assert not budget.try_acquire(t0 + 1000 - lead_ms - 2)
    assert budget.try_acquire(t0 + 1000 - lead_ms + 1)
    # idle for long: the bucket is full again, the same lead is allowed, not a second one
    assert budget.try_acquire(t0 + 10_000)
    assert not budget.try_acquire(t0 + 10_000 + 500 - lead_ms - 2)


def test_budget_without_a_spare_token_spaces_requests_evenly(tmp_path: Path) -> None:
    from core.ratelimit import RateBudget

    budget = RateBudget(tmp_path / "t.sqlite", rps=2.0, burst=1)
    t0 = int(time.time() * 1000) + 60_000
    assert budget.try_acquire(t0)
    assert not budget.try_acquire(t0 + 498)
    assert budget.try_acquire(t0 + 501)


def test_a_429_drains_the_model_so_the_next_request_waits_an_interval(tmp_path: Path) -> None:
    from core.ratelimit import RateBudget

    budget = RateBudget(tmp_path / "t.sqlite", rps=2.0, burst=2)
    before = int(time.time() * 1000)
    budget.rejected()  # a full bucket in the model, but the server said it is empty
    after = int(time.time() * 1000)
    assert not budget.try_acquire(before + 300)
    assert budget.try_acquire(after + 501)
