"""The demo, step by step: sandboxes up (Lexware and sevDesk), full sync, models + checks, write-back,
incremental re-sync, ground-truth comparison, summary. Every pipeline step is a Dagster run launched with
the `dagster` CLI."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from demo import world
from demo.colleague import Colleague
from demo.dagster_cli import ROOT, DagsterRunner, RunOutcome
from sandbox.process import SandboxProcess, start_sandbox

MARKER = ".kontor-demo"  # the demo only ever wipes a data dir it created
SANDBOX_STATE = "sandbox.state.json"  # the sandbox's books, kept so `make demo-ui` brings them back
SEVDESK_STATE = "sandbox.sevdesk.state.json"  # the same for the sevDesk sandbox
SANDBOX_FILE = "sandbox.demo.json"  # its options and port, for `make demo-ui`
CONFIG_FILE = "kontor.demo.yaml"
RAW_TABLES = (
    "profile",
    "posting_categories",
    "contacts",
    "articles",
    "voucherlist",
    "invoices",
    "credit_notes",
    "vouchers",
    "payments",
)


class DemoError(RuntimeError):
    """The demo cannot start (e.g. the data dir holds a warehouse it did not create)."""


class StepFailed(RuntimeError):
    """A step of the chain failed; later steps are skipped."""


@dataclass
class Results:
    """Everything the summary reports; `problems` non-empty means the demo exits non-zero."""

    data_dir: Path
    warehouse: Path
    dagster_home: Path
    books: dict[str, str] = field(default_factory=dict)
    runs: list[RunOutcome] = field(default_factory=list)
    full_sync: dict[str, dict] = field(default_factory=dict)  # tenant -> requests, minimum, 429s, ...
    resync: dict[str, dict] = field(default_factory=dict)
    cdm_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> tenant -> rows
    source_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # schema.table -> system -> rows
    source_rows_by: dict[str, str] = field(default_factory=dict)  # table -> "source_system" | "tenant"
    ground_truth: dict[str, list[str]] = field(default_factory=dict)  # tenant -> mismatches
    corrections: list[dict] = field(default_factory=list)
    colleague_edits: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    as_of: str | None = None  # the marts' as-of date: the sandbox clock's date
    seconds: float = 0.0

    @property
    def checks(self) -> list:
        latest = [r for r in self.runs if r.checks][-1:]  # the last build's checks
        return [c for r in latest for c in r.checks]


def say(message: str) -> None:
    print(message, flush=True)


class Demo:
    def __init__(self, data_dir: Path, dagster_home: Path, quick: bool = False) -> None:
        self.data_dir, self.quick = data_dir.resolve(), quick
        self.warehouse = self.data_dir / "warehouse.duckdb"
        self.results = Results(self.data_dir, self.warehouse, dagster_home.resolve())
        self.books = world.books_of(quick)

    # -- setup -----------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Start from nothing: remove what an earlier demo left in the data dir (and only that)."""
        d = self.data_dir
        if self.warehouse.exists():
            foreign = sorted(_tenants_in(self.warehouse) - {t.name for t in world.ALL_TENANTS})
            if foreign or not (d / MARKER).exists():
                what = f"holds tenants {foreign}" if foreign else "was not created by the demo"
                raise DemoError(
                    f"{self.warehouse} {what}; move it away or run the demo with --data-dir elsewhere"
                )
        d.mkdir(parents=True, exist_ok=True)
        for name in (
            "warehouse.duckdb",
            "warehouse.duckdb.wal",
            "warehouse.duckdb.lock",
            "warehouse.snapshot.duckdb",
            "kontor.demo.yaml",
            "corrections.csv",
            SANDBOX_STATE,
            SEVDESK_STATE,
            SANDBOX_FILE,
        ):
            (d / name).unlink(missing_ok=True)
        for t in world.ALL_TENANTS:
            shutil.rmtree(d / ".dlt" / f"kontor_{t.system}_{t.name}", ignore_errors=True)
            (d / ".ratelimit" / f"{t.name}.sqlite").unlink(missing_ok=True)
        shutil.rmtree(d / "demo-logs", ignore_errors=True)
        (d / MARKER).write_text("created by `make demo`; the demo may wipe its files here\n")

    def env(self, config: Path) -> dict[str, str]:
        env = {**os.environ, "KONTOR_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
        env.update({t.key_env: t.key for t in world.ALL_TENANTS})
        return env

    # -- the run ---------------------------------------------------------------------------------------
    def run(self) -> Results:
        started = time.monotonic()
        self.prepare()
        r = self.results
        say(
            f"[1/7] starting the sandboxes: 3 Lexware tenants in one process, rate limit {world.RATE_LIMIT} "
            "req/s per key; 1 sevDesk tenant in a sevDesk sandbox (no rate limit: sevDesk publishes none)"
        )
        options = {**world.sandbox_options(self.books), "state": str(self.data_dir / SANDBOX_STATE)}
        sev_options = {**world.sevdesk_sandbox_options(), "state": str(self.data_dir / SEVDESK_STATE)}
        with (
            start_sandbox(**options) as sandbox,
            start_sandbox(**sev_options) as sevdesk,
            Colleague(sandbox) as colleague,
        ):
            self.sandbox, self.sevdesk = sandbox, sevdesk
            r.books = {name: str(books) for name, books in self.books.items()}
            r.books |= {t.name: str(world.SEVDESK_BOOKS) for t in world.SEVDESK_TENANTS}
            sev_urls = {t.name: sevdesk.base_url for t in world.SEVDESK_TENANTS}
            urls = {t.name: sandbox.base_url for t in world.TENANTS} | {world.ELBE.name: colleague.base_url}
            config = world.write_config(self.data_dir / CONFIG_FILE, urls | sev_urls)
            self.dagster = DagsterRunner(r.dagster_home, self.env(config), self.data_dir / "demo-logs")
            try:
                self.full_sync()
                self.build("2-build", "[3/7] building staging, CDM, marts and running the asset checks")
                self.write_back(colleague)
                self.incremental()
                self.build("6-rebuild", "[6/7] rebuilding the models after the re-sync (and their checks)")
                self.compare_with_ground_truth()
            except StepFailed as exc:
                say(f"      FAILED: {exc}; stopping")
            # for `make demo-ui`: every tenant straight at the sandbox (the colleague leaves with the demo)
            world.write_config(config, {t.name: sandbox.base_url for t in world.TENANTS} | sev_urls)
            world.save_sandbox(
                self.data_dir / SANDBOX_FILE,
                options,
                sandbox.base_url,
                {"options": sev_options, "base_url": sevdesk.base_url},
            )
            say("      stopping the sandboxes (their books are kept for `make demo-ui`)")
        if self.warehouse.exists():
            self.count_cdm_rows()
        r.seconds = time.monotonic() - started
        return r

    def sandbox_of(self, tenant: world.Tenant) -> SandboxProcess:
        return self.sevdesk if tenant.system == "sevdesk" else self.sandbox

    def tenant_stats(self) -> dict[str, dict]:
        return {t.name: self.sandbox_of(t).tenant_stats(t.name) for t in world.ALL_TENANTS}

    def _tick(self, started: float):
        def tick() -> None:
            stats = self.tenant_stats()
            parts = " · ".join(f"{name} {s['requests']:,} req" for name, s in stats.items())
            say(f"      {time.monotonic() - started:5.0f}s  {parts}")

        return tick

    def _record(self, outcomes: list[RunOutcome]) -> None:
        """Keep the runs; a failed one stops the chain (the summary still shows what happened)."""
        self.results.runs += outcomes
        failed = [f"Dagster run {o.label} ended {o.status}" for o in outcomes if not o.ok]
        if failed:
            self.results.problems += failed
            raise StepFailed("; ".join(failed))

    def _sync_all(self, label: str, config: dict | None) -> dict[str, dict]:
        self.sandbox.reset_stats()
        self.sevdesk.reset_stats()
        started = time.monotonic()
        launched = [
            self.dagster.materialize(f"{label}-{t.name}", f"group:raw_{t.system}", t.name, config)
            for t in world.ALL_TENANTS
        ]
        outcomes = self.dagster.wait(launched, tick=self._tick(started))
        self._record(outcomes)
        stats = self.tenant_stats()
        out = {}
        for t, o in zip(world.ALL_TENANTS, outcomes, strict=True):
            meta = next(iter(o.metadata.values()), {})
            out[t.name] = {
                "requests": stats[t.name]["requests"],
                "429": stats[t.name]["status"].get("429", 0),
                "403": stats[t.name]["status"].get("403", 0),
                "rows": meta.get("rows_by_table", {}),
                "not_in_plan": sorted(k for k, m in o.metadata.items() if "not_in_plan" in m),
                "duration_s": meta.get("duration_s"),
                "status": o.status,
            }
        say(
            f"      done in {time.monotonic() - started:.0f}s: "
            + ", ".join(f"{n} {v['status'].lower()}" for n, v in out.items())
        )
        return out

    def full_sync(self) -> None:
        say(
            "[2/7] full sync of every tenant (4 parallel Dagster runs: raw_lexware/* for each Lexware "
            "partition, raw_sevdesk/* for the sevDesk one)"
        )
        # The first run on an empty warehouse reads everything and leaves the incremental cursor set
        # (mode `full` is for re-extracting later: it does not move the cursor).
        result = self._sync_all("1-full-sync", None)
        for t in world.TENANTS:
            export = self.sandbox.export(t.name)
            result[t.name]["minimum"] = world.minimum_full_sync_requests(export)  # a denied call counts
        for t in world.SEVDESK_TENANTS:
            result[t.name]["minimum"] = world.minimum_sevdesk_sync_requests(self.sevdesk.export(t.name))
        self.results.full_sync = result

    def build(self, label: str, line: str) -> None:
        say(line)
        started = time.monotonic()
        as_of = world.sandbox_date(self.sandbox.clock())  # the books' today, not the machine's
        self.results.as_of = as_of.isoformat()
        [outcome] = self.dagster.wait(
            [self.dagster.execute_job(label, "kontor_transform", world.transform_run_config(as_of))]
        )
        self._record([outcome])
        failed = [c for c in outcome.checks if not c.passed and c.severity == "ERROR"]
        for c in failed:
            self.results.problems.append(f"asset check {c.asset}:{c.name} failed")
        passed = f"{sum(c.passed for c in outcome.checks)}/{len(outcome.checks)}"
        say(
            f"      done in {time.monotonic() - started:.0f}s: {len(outcome.metadata)} models as of {as_of} "
            f"(the sandbox's date), {passed} dbt tests passed"
        )

    # -- write-back ------------------------------------------------------------------------------------
    def write_back(self, colleague: Colleague) -> None:
        say(
            "[4/7] write-back: 3 corrections for Lexware (a colleague edits Lexware meanwhile) and 1 for "
            "sevDesk, job apply_corrections"
        )
        tenant, sb = world.ELBE.name, self.sandbox
        export = sb.export(tenant)
        contacts = [c for c in export["contacts"] if _updatable(c)]
        retry_contact, conflict_contact = contacts[0], contacts[1]
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            bill_id, due = con.execute(
                "SELECT id, due_date::VARCHAR FROM cdm.bills WHERE tenant_id = ? AND status = 'open' "
                "AND due_date IS NOT NULL ORDER BY id LIMIT 1",
                [tenant],
            ).fetchone()
            seen = {
                row[0]: row[1:]
                for row in con.execute(
                    "SELECT remote_id, email, vat_id FROM cdm.contacts WHERE tenant_id = ?", [tenant]
                ).fetchall()
            }
        rows = [
            {
                "entity": "bill",
                "record_id": bill_id,
                "field": "due_date",
                "new_value": "2031-01-31",
                "expected_old_value": due,
            },
            {
                "entity": "contact",
                "record_id": f"lexware:{tenant}:{retry_contact['id']}",
                "field": "email",
                "new_value": "buchhaltung@elbe-demo.example",
                "expected_old_value": seen[retry_contact["id"]][0],
            },
            {
                "entity": "contact",
                "record_id": f"lexware:{tenant}:{conflict_contact['id']}",
                "field": "vat_id",
                "new_value": valid_de_vat_id(21000000),
                "expected_old_value": seen[conflict_contact["id"]][1],
            },
        ]
        rows = [{"tenant": tenant, **row} for row in rows] + [self.sevdesk_correction()]
        path = self.data_dir / "corrections.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        imported = subprocess.run(
            [sys.executable, "-m", "pipelines.writeback", "import", str(path)],
            cwd=ROOT,
            env=self.dagster.env,
            capture_output=True,
            text=True,
        )
        if imported.returncode:
            self.results.problems.append(f"importing corrections failed: {imported.stderr.strip()}")
            return
        say("      recorded: " + "; ".join(line for line in imported.stdout.splitlines() if line))
        # A colleague changed the VAT id the analyst saw (true conflict) ...
        other_vat = valid_de_vat_id(29000000)
        sb.edit(tenant, "contacts", conflict_contact["id"], {"company": {"vatRegistrationId": other_vat}})
        # ... and will save a note on the other contact between Kontor's GET and PUT (retry).
        colleague.arm(tenant, "contacts", retry_contact["id"], {"note": "Rückruf erbeten (colleague)"})
        started = time.monotonic()
        [outcome] = self.dagster.wait([self.dagster.execute_job("4-apply-corrections", "apply_corrections")])
        self._record([outcome])
        self.results.colleague_edits = colleague.edits
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            cols = [
                "id",
                "tenant",
                "entity",
                "field",
                "new_value",
                "status",
                "reason",
                "attempts",
                "version_before",
                "applied_version",
            ]
            self.results.corrections = [
                dict(zip([*cols, "puts", "guarantees", "audit"], row, strict=True))
                for row in con.execute(
                    f"SELECT {', '.join(f'c.{c}' for c in cols)}, "
                    "count(a.id) FILTER (a.action IN ('put', 'save')), "
                    "list(DISTINCT a.guarantee ORDER BY a.guarantee) FILTER (a.guarantee IS NOT NULL), "
                    "list(a.action || ':' || a.outcome ORDER BY a.id) FILTER (a.id IS NOT NULL) "
                    "FROM writeback.corrections AS c "
                    "LEFT JOIN writeback.audit AS a ON a.correction_id = c.id "
                    "GROUP BY ALL ORDER BY c.id"
                ).fetchall()
            ]
        expected = [
            ("applied", 1),
            ("applied", 2),
            ("conflict", 0),  # (status, writes sent): Lexware ...
            ("applied", 1),
        ]  # ... and sevDesk (one saveVoucher)
        got = [(c["status"], c["puts"]) for c in self.results.corrections]
        if got != expected:
            self.results.problems.append(f"write-back outcomes {got}, expected {expected}")
        say(
            f"      done in {time.monotonic() - started:.0f}s: "
            + ", ".join(f"#{c['id']} {c['status']}" for c in self.results.corrections)
        )

    def sevdesk_correction(self) -> dict:
        """The sevDesk correction: a new due date on a draft bill (sevDesk voucher), as an analyst would
        record it from the warehouse (old value as synced); applied compare-before-write."""
        tenant = world.ISAR.name
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            vid, due = con.execute(
                "SELECT id, raw ->> '$.paymentDeadline' FROM raw_sevdesk.vouchers WHERE tenant_id = ? "
                "AND raw ->> '$.status' = '50' AND raw ->> '$.enshrined' IS NULL "
                "AND NOT coalesce(is_deleted, false) "
                "ORDER BY raw ->> '$.creditDebit' = 'C' DESC, id::BIGINT LIMIT 1",
                [tenant],
            ).fetchone()
        return {
            "tenant": tenant,
            "entity": "bill",
            "record_id": f"sevdesk:{tenant}:{vid}",
            "field": "due_date",
            "new_value": "2031-02-28",
            "expected_old_value": (due or "")[:10],
        }

    # -- incremental -----------------------------------------------------------------------------------
    def incremental(self) -> None:
        say(
            "[5/7] incremental re-sync after edits in Lexware (2 invoices paid, 1 contact renamed) and "
            "the sevDesk write-back"
        )
        t, sb = world.NORDLICHT.name, self.sandbox
        export = sb.export(t)
        open_invoices = [i for i in export["invoices"] if i["voucherStatus"] == "open"][:2]
        for inv in open_invoices:
            sb.edit(t, "invoices", inv["id"], action="pay")
        contact = next(c for c in export["contacts"] if "company" in c)
        sb.edit(t, "contacts", contact["id"], {"company": {"name": contact["company"]["name"] + " (neu)"}})
        result = self._sync_all("5-incremental", None)
        for tenant in world.TENANTS:  # profile, categories, contact and article pages, one voucherlist page,
            changed = len(open_invoices) if tenant is world.NORDLICHT else 0  # details
            books = self.sandbox.export(tenant.name)
            pages = sum(math.ceil(len(books[name]) / 250) for name in ("contacts", "articles"))
            result[tenant.name]["minimum"] = 3 + pages + 2 * changed
        for tenant in world.SEVDESK_TENANTS:  # every run lists the tables without an update filter
            export = self.sevdesk.export(tenant.name)
            result[tenant.name]["minimum"] = world.minimum_sevdesk_sync_requests(export)
        self.results.resync = result

    # -- verification ----------------------------------------------------------------------------------
    def compare_with_ground_truth(self) -> None:
        """Raw ids and versions per table equal the sandbox's export (a denied endpoint's table: empty)."""
        say("[7/7] comparing the warehouse with the sandboxes' ground truth")
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            for t in world.TENANTS:
                expected = world.expected_raw(self.sandbox.export(t.name))
                mismatches = []
                for table in RAW_TABLES:
                    want = {} if t.denied and table == t.denied[1] else expected[table]
                    has_version = table in ("contacts", "articles", "invoices", "credit_notes", "vouchers")
                    got = dict(
                        con.execute(
                            f"SELECT id, {'version' if has_version else 'NULL'} FROM raw_lexware.{table} "
                            "WHERE tenant_id = ? AND NOT coalesce(is_deleted, false)",
                            [t.name],
                        ).fetchall()
                    )
                    if got != want:
                        missing, extra = len(want.keys() - got.keys()), len(got.keys() - want.keys())
                        stale = sum(1 for k in want.keys() & got.keys() if want[k] != got[k])
                        mismatches.append(f"{table}: {missing} missing, {extra} extra, {stale} stale")
                self.results.ground_truth[t.name] = mismatches
                self.results.problems += [f"{t.name} raw_lexware.{m}" for m in mismatches]
            for t in world.SEVDESK_TENANTS:
                self.results.ground_truth[t.name] = mismatches = _sevdesk_mismatches(
                    con, t.name, world.expected_sevdesk_raw(self.sevdesk.export(t.name))
                )
                self.results.problems += [f"{t.name} raw_sevdesk.{m}" for m in mismatches]

    def count_cdm_rows(self) -> None:
        """Rows per tenant of every CDM table, and per source system of every CDM and mart table: by its
        `source_system` column where it has one, else by the system of its `tenant_id`."""
        system_of = {t.name: t.system for t in world.ALL_TENANTS}
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            columns: dict[tuple[str, str], set[str]] = {}
            for schema, table, column in con.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE table_schema IN ('cdm', 'marts') ORDER BY ALL"
            ).fetchall():
                columns.setdefault((schema, table), set()).add(column)
            for (schema, table), cols in columns.items():
                if "tenant_id" not in cols:
                    continue  # e.g. marts.as_of
                by_tenant = dict(
                    con.execute(f"SELECT tenant_id, count(*) FROM {schema}.{table} GROUP BY ALL").fetchall()
                )
                if schema == "cdm":
                    self.results.cdm_rows[table] = {
                        t.name: by_tenant.get(t.name, 0) for t in world.ALL_TENANTS
                    }
                if "source_system" in cols:
                    by_source = dict(
                        con.execute(
                            f"SELECT source_system, count(*) FROM {schema}.{table} GROUP BY ALL"
                        ).fetchall()
                    )
                else:
                    by_source = {}
                    for tenant, n in by_tenant.items():
                        system = system_of.get(tenant, "?")
                        by_source[system] = by_source.get(system, 0) + n
                self.results.source_rows[f"{schema}.{table}"] = {
                    s: by_source.get(s, 0) for s in sorted({"lexware", "sevdesk", *by_source})
                }
                self.results.source_rows_by[f"{schema}.{table}"] = (
                    "source_system" if "source_system" in cols else "tenant"
                )


def _tenants_in(warehouse: Path) -> set[str]:
    """Tenants with raw rows in a warehouse file (empty if it has no raw tables)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.columns WHERE table_schema IN "
            "('raw_lexware', 'raw_sevdesk') AND column_name = 'tenant_id'"
        ).fetchall()
        return {
            r[0]
            for s, t in tables
            for r in con.execute(f'SELECT DISTINCT tenant_id FROM {s}."{t}"').fetchall()
        }


def _sevdesk_mismatches(
    con: duckdb.DuckDBPyConnection, tenant: str, expected: dict[str, dict[str, dict]]
) -> list[str]:
    """Each raw_sevdesk table against the sevDesk sandbox's export: ids and whole payloads."""
    mismatches = []
    for table, want in expected.items():
        got = {
            i: json.loads(raw)
            for i, raw in con.execute(
                f"SELECT id, raw FROM raw_sevdesk.{table} WHERE tenant_id = ? "
                "AND NOT coalesce(is_deleted, false)",
                [tenant],
            ).fetchall()
        }
        if got != want:
            missing, extra = len(want.keys() - got.keys()), len(got.keys() - want.keys())
            stale = sum(1 for k in want.keys() & got.keys() if want[k] != got[k])
            mismatches.append(f"{table}: {missing} missing, {extra} extra, {stale} stale")
    return mismatches


def _updatable(contact: dict) -> bool:
    """A company contact the public API lets us update (one address, e-mail, phone, person at most)."""
    lists = [
        *(contact.get("emailAddresses") or {}).values(),
        *(contact.get("phoneNumbers") or {}).values(),
        *(contact.get("addresses") or {}).values(),
        (contact.get("company") or {}).get("contactPersons") or [],
    ]
    return "company" in contact and all(len(x) <= 1 for x in lists)


def valid_de_vat_id(base: int) -> str:
    """A German VAT id with a correct check digit (ISO 7064 MOD 11,10) from an 8-digit base."""
    product = 10
    for ch in str(base):
        product = (2 * ((int(ch) + product) % 10 or 10)) % 11
    return f"DE{base}{(11 - product) % 10}"
