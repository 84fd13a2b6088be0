"""Small helpers of the Lexware emulator: Berlin time formatting as the API renders it, money rounding,
deterministic ids (the clock itself is shared: sandbox/clock.py)."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sandbox.clock import BERLIN, DEFAULT_ANCHOR, Clock

__all__ = ["BERLIN", "DEFAULT_ANCHOR", "Clock", "fmt_day", "fmt_dt", "money", "num", "rng_uuid", "whole"]
CENT = Decimal("0.01")


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
