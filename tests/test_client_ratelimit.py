"""The per-tenant rate budget is shared by processes: together they stay within one rate."""

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pipelines.ratelimit import budget_for

WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from pipelines.ratelimit import budget_for
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
        subprocess.Popen([sys.executable, "-c", WORKER, str(bucket), str(rps), str(per_process)],
                         stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
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
