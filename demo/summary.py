"""The short, readable summary printed at the end of `make demo`."""

from __future__ import annotations

from pathlib import Path

from core.config import DEFAULT_RPS_BY_SYSTEM
from demo import world
from demo.run import Results
from pipelines.sevdesk.settings import TABLES as SEVDESK_TABLES


def _rel(path: Path) -> str:
    """Relative to the current folder when inside it, else absolute."""
    path = path.resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def render(r: Results) -> str:
    names = [t.name for t in world.ALL_TENANTS]
    sevdesk = {t.name for t in world.SEVDESK_TENANTS}
    out = [""]
    verdict = "OK" if not r.problems else f"FAILED ({len(r.problems)} problem(s))"
    out.append(f"Kontor demo: {verdict} in {int(r.seconds // 60)}m{int(r.seconds % 60):02d}s")
    out.append(
        f"Sandbox rate limit {world.RATE_LIMIT} requests/s per API key, Kontor budget "
        f"{world.BUDGET_RPS}/s per tenant (the real Lexware API allows 2/s: a full sync of the "
        f"large tenant would take ~{_real_minutes(r):.0f} min there). sevDesk sandbox: no rate "
        f"limit (sevDesk publishes none), Kontor's default sevDesk budget "
        f"{DEFAULT_RPS_BY_SYSTEM['sevdesk']:g}/s."
    )
    for t in world.ALL_TENANTS:
        out.append(f"  {t.name:<10} {r.books.get(t.name, '')}; {t.story}")

    out += [
        "",
        "Full sync (Dagster: one run of raw_lexware/* or raw_sevdesk/* per tenant partition)",
        f"  {'tenant':<10} {'requests':>9} {'minimum':>8} {'429s served':>12}  note",
    ]
    for name in names:
        s = r.full_sync.get(name, {})
        note = (
            f"not in plan (403): {', '.join(s['not_in_plan'])}"
            if s.get("not_in_plan")
            else "= minimum + one retry per 429"
            if s.get("429")
            else (
                f"sevDesk: a page per 1000 rows of each of its {len(SEVDESK_TABLES) - 1} lists"
                " + the tax rules"
            )
            if name in sevdesk
            else ""
        )
        out.append(
            f"  {name:<10} {s.get('requests', 0):>9,} {s.get('minimum', 0):>8,} "
            f"{s.get('429', 0):>12,}  {note}"
        )

    width = max([len("table"), *(len(f"cdm.{t}") for t in r.cdm_rows)]) + 2
    out += ["", "CDM rows per tenant", "  " + f"{'table':<{width}}" + "".join(f"{n:>11}" for n in names)]
    for table, counts in r.cdm_rows.items():
        out.append("  " + f"{'cdm.' + table:<{width}}" + "".join(f"{counts[n]:>11,}" for n in names))
    out.append(
        "  raw tables equal the sandbox's records (ids and versions, every Lexware tenant): "
        + _truth(r, [t.name for t in world.TENANTS])
    )
    for t in world.SEVDESK_TENANTS:
        out.append(
            f"  raw_sevdesk tables equal the sevDesk sandbox's export (ids and whole records, "
            f"{len(SEVDESK_TABLES)} tables, tenant {t.name}): {_truth(r, [t.name])}"
        )
    out += _source_rows(r)

    checks = r.checks
    passed = sum(c.passed for c in checks)
    warned = [c for c in checks if not c.passed and c.severity != "ERROR"]
    out += [
        "",
        f"dbt tests as asset checks (last build): {passed}/{len(checks)} passed"
        + (
            f", {len(warned)} warning(s): " + ", ".join(f"{c.asset}:{c.name}" for c in warned)
            if warned
            else ""
        ),
    ]

    out += ["", "Write-back (Dagster job apply_corrections: tenant elbe on Lexware, tenant isar on sevDesk)"]
    for c in r.corrections:
        story = c["reason"] or ""
        if c.get("tenant") in sevdesk:
            out.append(_sevdesk_correction(c))
            continue
        if c["status"] == "applied":
            story = (
                "written with one PUT"
                if c["puts"] == 1
                else (
                    "a colleague saved the record between GET and PUT: refetched, re-applied, PUT again "
                    "(the colleague's change is kept)"
                )
            )
        field = f"{c['entity']}.{c['field']}"
        out.append(f"  #{c['id']} {field:<16} {c['status']:<9} PUTs {c['puts']}  {story}")

    out += [
        "",
        "Incremental re-sync (after 2 payments and a rename in nordlicht's Lexware, and isar's "
        "sevDesk write-back)",
    ]
    out.append(
        "  "
        + ", ".join(
            f"{n}: {s['requests']:,} requests (minimum {s.get('minimum', '?')})" for n, s in r.resync.items()
        )
    )

    snapshot = r.warehouse.with_name(r.warehouse.stem + ".snapshot.duckdb")
    out += [
        "",
        f"Warehouse: {_rel(r.warehouse)}  (query its snapshot {_rel(snapshot)}: `make sql`, "
        "or kontor.open() in Python)",
        f"Marts as of {r.as_of} (the sandbox's date: its books end on its own clock)",
        f"Dagster runs: DAGSTER_HOME={_rel(r.dagster_home)}; `make demo-ui` opens them in the Dagster UI "
        "with both sandboxes back (same books and ports) and the keys set, so every job runs; schedule "
        "lexware_hourly and sensor kontor_model_automation run there, pending_corrections_sensor is off "
        "(schedule sevdesk_hourly syncs the sevDesk tenant)",
        f"Logs of every run: {_rel(r.data_dir / 'demo-logs')}/   Charts: `make report`",
    ]
    if r.problems:
        out += ["", "Problems:", *(f"  - {p}" for p in r.problems)]
    return "\n".join(out)


def _truth(r: Results, tenants: list[str]) -> str:
    bad = {t: r.ground_truth[t] for t in tenants if r.ground_truth.get(t)}
    if any(t not in r.ground_truth for t in tenants):
        return "not compared (the demo stopped early)"
    return "yes" if not bad else "NO: " + "; ".join(f"{t}: {', '.join(m)}" for t, m in bad.items())


def _source_rows(r: Results) -> list[str]:
    """Rows per source system of every CDM and mart table with tenants (a table without a
    `source_system` column is split by its tenants' systems, marked *)."""
    if not r.source_rows:
        return []
    systems = sorted({s for counts in r.source_rows.values() for s in counts})
    width = max(len(t) for t in r.source_rows) + 4
    out = [
        "",
        "Rows per source system (CDM and marts; * = by the tenant's system: the table has no "
        "source_system column)",
        "  " + f"{'table':<{width}}" + "".join(f"{s:>11}" for s in systems),
    ]
    for table, counts in r.source_rows.items():
        mark = "" if r.source_rows_by.get(table) == "source_system" else " *"
        out.append("  " + f"{table + mark:<{width}}" + "".join(f"{counts.get(s, 0):>11,}" for s in systems))
    return out


def _sevdesk_correction(c: dict) -> str:
    """One sevDesk correction: its outcome, the guarantee its audit rows name and their steps."""
    field = f"{c['entity']}.{c['field']}"
    guarantee = ", ".join(c.get("guarantees") or []) or "none recorded"
    steps = " -> ".join(c.get("audit") or [])
    voucher = c["entity"] in ("bill", "voucher")
    written = "written (saveVoucher, every position resent)" if voucher else "written"
    story = (
        f"re-read, compared, {written}, re-read to confirm (audit: {steps}); guarantee {guarantee}: "
        "weaker than Lexware's version check (sevDesk has no version)"
        if c["status"] == "applied"
        else f"{c['reason'] or ''} (audit: {steps}; guarantee {guarantee})"
    )
    return f"  #{c['id']} {field:<16} {c['status']:<9} writes {c['puts']}  [{c['tenant']}, sevDesk] {story}"


def _real_minutes(r: Results) -> float:
    large = r.full_sync.get(world.NORDLICHT.name, {})
    return large.get("minimum", 0) / 2 / 60
