"""The sandbox clock every emulator shares: it starts at a fixed anchor (deterministic books per seed) and
runs in real time; the operator API can move it forward, never back."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
# The fixed "now" the seeded books end at (deterministic data); the clock runs on from here.
DEFAULT_ANCHOR = datetime(2026, 11, 2, 9, 0, 0, tzinfo=BERLIN)


class Clock:
    """Sandbox time: starts at an anchor (fixed per seed for deterministic data) and runs in real time."""

    def __init__(self, anchor: datetime = DEFAULT_ANCHOR) -> None:
        self.anchor = anchor
        self._start = time.monotonic()

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=time.monotonic() - self._start)

    def today(self) -> date:
        return self.now().astimezone(BERLIN).date()

    def advance_to(self, moment: datetime) -> None:
        """Never let time run backwards (used after loading persisted state)."""
        if moment > self.now():
            self.anchor, self._start = moment, time.monotonic()
