"""--state FILE: persist all tenants' books across restarts (atomic JSON file, saved when dirty); shared by
every emulator (its sandbox object has `config.seed`/`config.state_file`, `clock`, `tenants` whose
`dump()` is JSON, `seed_all(states)` and `dirty`)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import datetime
from typing import Any

Sandbox = Any  # sandbox.lexware.app.Sandbox or sandbox.sevdesk.app.Sandbox

log = logging.getLogger("sandbox.state")
FORMAT = 1


def save(sb: Sandbox, path: str) -> None:
    data = {
        "format": FORMAT,
        "seed": sb.config.seed,
        "clock": sb.clock.now().isoformat(),
        "tenants": {name: t.dump() for name, t in sb.tenants.items()},
    }
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, path)
    sb.dirty = False


def load(sb: Sandbox, path: str) -> bool:
    """Replace the seeded books with the persisted ones (tenants missing from the file stay seeded)."""
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: unsupported state format {data.get('format')!r}")
    sb.seed_all(data["tenants"])
    sb.clock.advance_to(datetime.fromisoformat(data["clock"]))
    return True


async def autosave(sb: Sandbox, path: str, interval: float = 1.0) -> None:
    while True:
        await asyncio.sleep(interval)
        if sb.dirty:
            try:
                save(sb, path)
            except OSError as exc:  # keep serving; report once per failure
                log.error("could not save state to %s: %s", path, exc)
