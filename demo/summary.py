"""The short, readable summary printed at the end of `make demo`."""

from __future__ import annotations

from pathlib import Path

from demo import world
from demo.run import Results


def _rel(path: Path) -> str:
    """Relative to the current folder when inside it, else absolute."""
    path = path.resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def render(r: Results) -> str:
    names = [t.name for t in world.TENANTS]
    out = [""]
    verdict = "OK" if not r.problems else f"FAILED ({len(r.problems)} problem(s))"
    out.append(f"Kontor demo: {verdict} in {int(r.seconds // 60)}m{int(r.seconds % 60):02d}s")
    out.append(f"Sandbox rate limit {world.RATE_LIMIT} requests/s per API key, Kontor budget "
               f"{world.BUDGET_RPS}/s per tenant (the real Lexware API allows 2/s: a full sync of the "
               f"large tenant would take ~{_real_minutes(r):.0f} min there).")
    for t in world.TENANTS:
        out.append(f"  {t.name:<10} {r.books.get(t.name, '')}; {t.story}")

    out += ["", "Full sync (Dagster: one run of raw_lexware/* per tenant partition)",
            f"  {'tenant':<10} {'requests':>9} {'minimum':>8} {'429s served':>12}  note"]
    for name in names:
        s = r.full_sync.get(name, {})
        note = f"not in plan (403): {', '.join(s['not_in_plan'])}" if s.get("not_in_plan") else \
            "= minimum + one retry per 429" if s.get("429") else ""
        out.append(f"  {name:<10} {s.get('requests', 0):>9,} {s.get('minimum', 0):>8,} "
                   f"{s.get('429', 0):>12,}  {note}")

    width = max([len("table"), *(len(f"cdm.{t}") for t in r.cdm_rows)]) + 2
    out += ["", "CDM rows per tenant", "  " + f"{'table':<{width}}" + "".join(f"{n:>11}" for n in names)]
    for table, counts in r.cdm_rows.items():
        out.append("  " + f"{'cdm.' + table:<{width}}" + "".join(f"{counts[n]:>11,}" for n in names))
    truth = "yes" if not any(r.ground_truth.values()) else "NO: " + "; ".join(
        f"{t}: {', '.join(m)}" for t, m in r.ground_truth.items() if m)
    out.append(f"  raw tables equal the sandbox's records (ids and versions, every tenant): {truth}")

    checks = r.checks
    passed = sum(c.passed for c in checks)
    warned = [c for c in checks if not c.passed and c.severity != "ERROR"]
    out += ["", f"dbt tests as asset checks (last build): {passed}/{len(checks)} passed"
            + (f", {len(warned)} warning(s): " + ", ".join(f"{c.asset}:{c.name}" for c in warned)
               if warned else "")]

    out += ["", "Write-back (Dagster job apply_corrections, tenant elbe)"]
    for c in r.corrections:
        story = c["reason"] or ""
        if c["status"] == "applied":
            story = "written with one PUT" if c["puts"] == 1 else (
                "a colleague saved the record between GET and PUT: refetched, re-applied, PUT again "
                "(the colleague's change is kept)")
        field = f"{c['entity']}.{c['field']}"
        out.append(f"  #{c['id']} {field:<16} {c['status']:<9} PUTs {c['puts']}  {story}")

    out += ["", "Incremental re-sync (after 2 payments and a rename in nordlicht's Lexware)"]
    out.append("  " + ", ".join(f"{n}: {s['requests']:,} requests (minimum {s.get('minimum', '?')})"
                                for n, s in r.resync.items()))

    snapshot = r.warehouse.with_name(r.warehouse.stem + ".snapshot.duckdb")
    out += ["", f"Warehouse: {_rel(r.warehouse)}  (query its snapshot {_rel(snapshot)}: `make sql`, "
                "or kontor.open() in Python)",
            f"Marts as of {r.as_of} (the sandbox's date: its books end on its own clock)",
            f"Dagster runs: DAGSTER_HOME={_rel(r.dagster_home)}; `make demo-ui` opens them in the Dagster UI "
            "with the sandbox back (same books and port) and the keys set, so every job runs; schedule "
            "lexware_hourly and sensor kontor_model_automation run there, pending_corrections_sensor is off",
            f"Logs of every run: {_rel(r.data_dir / 'demo-logs')}/   Charts: `make report`"]
    if r.problems:
        out += ["", "Problems:", *(f"  - {p}" for p in r.problems)]
    return "\n".join(out)


def _real_minutes(r: Results) -> float:
    large = r.full_sync.get(world.NORDLICHT.name, {})
    return large.get("minimum", 0) / 2 / 60
