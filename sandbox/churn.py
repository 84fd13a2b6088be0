"""--churn RATE: a background "other user" editing the books at RATE edits per second (shared by every
emulator; each brings its own actions and step: sandbox/lexware/churn.py, sandbox/sevdesk/operations.py).

The rate can be changed (0 = paused) at runtime through `Churn.set_rate` (operator API
`POST /_sandbox/churn`). An edit is one synchronous `step` on the event loop, so once `set_rate(0)`
has returned no edit is in progress and none starts until the rate is raised again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

log = logging.getLogger("sandbox.churn")


class Churn:
    """The background editor: its current rate (edits per second, 0 = paused) and the edits made."""

    def __init__(
        self,
        rate: float,
        seed: int,
        actions: list[tuple[str, int]],
        step_fn: Callable[[Any, Any, str, random.Random], bool],
        skipped: tuple[type[Exception], ...],
    ) -> None:
        """The emulator's `actions` (name, weight), its `step_fn(sb, tenant, action, rng)` (False: nothing
        to act on) and the exceptions that merely skip an edit."""
        self.actions = actions
        self._step = step_fn
        self._skipped = skipped
        self.rate = rate
        self.edits: Counter[str] = Counter()  # action -> edits that changed a record
        self._rng = random.Random(f"churn:{seed}")
        self._rate_changed = asyncio.Event()

    def set_rate(self, rate: float) -> float:
        """Set the rate (0 pauses at once) and return the previous one."""
        previous, self.rate = self.rate, rate
        self._rate_changed.set()
        return previous

    def snapshot(self) -> dict:
        return {"rate": self.rate, "edits": sum(self.edits.values()), "by_action": dict(self.edits)}

    async def run(self, sb: Any) -> None:
        names = [a for a, _ in self.actions]
        weights = [w for _, w in self.actions]
        while True:
            self._rate_changed.clear()
            if self.rate <= 0:
                await self._rate_changed.wait()
                continue
            try:  # a rate change restarts the wait with the new interval
                await asyncio.wait_for(self._rate_changed.wait(), 1 / self.rate)
                continue
            except TimeoutError:
                pass
            if self.rate <= 0:  # paused while this task was waking up
                continue
            tenant = sb.tenants[self._rng.choice(sorted(sb.tenants))]
            action = self._rng.choices(names, weights)[0]
            try:
                if self._step(sb, tenant, action, self._rng):
                    self.edits[action] += 1
            except self._skipped as exc:
                log.debug("churn %s skipped: %s", action, exc)
