"""Seeded fault injection for /v1 routes.

Spec syntax: comma-separated `KIND=PROBABILITY`, e.g.
`429=0.05,500=0.02,503=0.02,reset=0.01,slow=0.01,malformed=0.02`.
KIND is one of 429, 500, 502, 503, 504, reset, slow, malformed; probabilities are per request and sum to <= 1.
Effect on writes: 429/500/502/503/reset -> NOT performed; 504/slow/malformed -> performed, then the response
is replaced (504), delayed past the client timeout (slow) or truncated (malformed).
Each tenant has its own spec (the process-wide one unless overridden) and its own seeded draw sequence.
"""

from __future__ import annotations

import random

KINDS = ("429", "500", "502", "503", "504", "reset", "slow", "malformed")
NOT_PERFORMED = {"429", "500", "502", "503", "reset"}


def parse_spec(spec: str) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        kind, sep, prob = part.partition("=")
        if not sep or kind not in KINDS:
            raise ValueError(f"bad fault '{part}': expected KIND=PROBABILITY with KIND in {', '.join(KINDS)}")
        try:
            p = float(prob)
        except ValueError:
            raise ValueError(f"bad fault probability in '{part}'") from None
        if not 0 <= p <= 1:
            raise ValueError(f"fault probability out of range in '{part}'")
        out.append((kind, p))
    if sum(p for _, p in out) > 1 + 1e-9:
        raise ValueError("fault probabilities sum to more than 1")
    return out


class FaultInjector:
    """One tenant's fault draws: its own seeded sequence, so other tenants' traffic never shifts it."""

    def __init__(self, spec: str, seed: int, tenant: str) -> None:
        self.faults = parse_spec(spec)
        self._rng = random.Random(f"faults:{seed}:{tenant}")

    def draw(self) -> str | None:
        if not self.faults:
            return None
        r, acc = self._rng.random(), 0.0
        for kind, p in self.faults:
            acc += p
            if r < acc:
                return kind
        return None
