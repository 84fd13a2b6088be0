"""Small shared helpers: Berlin time formatting, money rounding, deterministic ids, the sandbox clock."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
CENT = Decimal("0.01")
# The fixed "now" the seeded books end at (deterministic data); the clock runs on from here.
DEFAULT_ANCHOR = datetime(2026, 11, 2, 9, 0, 0, tzinfo=BERLIN)


def fmt_dt(dt: datetime) -> str:
    """Render like the real API: yyyy-MM-ddTHH:mm:ss.SSS+01:00 in Europe/Berlin."""
    dt = dt.astimezone(BERLIN)
    return (
        dt.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{dt.microsecond // 1000:03d}"
        + dt.strftime("%z")[:3]
        + ":"
        + (dt.strftime("%z")[3:])
    )


def fmt_day(d: date) -> str:
    """A calendar day rendered as Berlin midnight (how date-only fields come back)."""
    return fmt_dt(datetime(d.year, d.month, d.day, tzinfo=BERLIN))


def money(value: Decimal | float | int | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def num(value: Decimal) -> float | int:
    """JSON number for an amount: 119.0 style floats (the real API sends plain JSON numbers)."""
    return float(value)


def whole(value: Decimal) -> float | int:
    """Rates, quantities, percentages: 19 rather than 19.0 when integral."""
    return int(value) if value == value.to_integral_value() else float(value)


def rng_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


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
