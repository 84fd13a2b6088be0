"""`make demo`'s entry point end to end (smaller books for the large tenant): it exits 0, and what its
summary claims holds in the warehouse, in the Dagster instance and against the sandboxes' ground truth
(a fresh sandbox with the same seed and options holds the same books the demo started from), for the
Lexware tenants and the sevDesk one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from demo import world
from demo.run import valid_de_vat_id
from sandbox.process import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
# The demo runs 11 Dagster CLI runs (4 parallel syncs twice, 2 builds, the write-back) and 3 sandboxes:
# on a shared 2-core machine that can take longer than the suite's default 600 s timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    cmd = [
        sys.executable,
        "-m",
        "demo",
        "--quick",
        "--data-dir",
        str(tmp / "data"),
        "--dagster-home",
        str(tmp / "dagster"),
        "--json",
        str(tmp / "results.json"),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads((tmp / "results.json").read_text()), tmp


@pytest.fixture(scope="module")
def seeded():
    """The books the demo started from: same tenants, seed and sizes, untouched."""
    large = {world.NORDLICHT.name: world.NORDLICHT.key}
    small = {world.ELBE.name: world.ELBE.key}
    with (
        start_sandbox(tenants=large, rate_limit=0, **world.LARGE_QUICK.flags()) as a,
        start_sandbox(tenants=small, rate_limit=0, **world.SMALL.flags()) as b,
        start_sandbox(**world.sevdesk_sandbox_options()) as c,
    ):
        yield {
            world.NORDLICHT.name: a.export(world.NORDLICHT.name),
            world.ELBE.name: b.export(world.ELBE.name),
            world.ISAR.name: c.export(world.ISAR.name),
        }


def test_progress_lines_and_a_summary(demo):
    out, _, _ = demo
    assert [f"[{i}/7]" in out for i in range(1, 8)] == [True] * 7
    assert re.search(r"^\s+\d+s\s+nordlicht [\d,]+ req", out, re.M), "live progress while syncing"
    assert "Kontor demo: OK" in out
    assert f"rate limit {world.RATE_LIMIT} requests/s per API key" in out


def _section(out: str, title: str) -> str:
    """The lines of the summary from the one starting with `title` to the next blank line."""
    return out.split("\n" + title, 1)[1].split("\n\n", 1)[0]


def test_cdm_rows_in_the_summary_are_the_warehouse_rows(demo):
    out, results, _ = demo
    printed = {
        m[1]: [int(x.replace(",", "")) for x in m[2].split()]
        for m in re.finditer(r"^\s+cdm\.(\w+)\s+([\d,\s]+?)$", _section(out, "CDM rows per tenant"), re.M)
    }
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        for table, counts in printed.items():
            actual = dict(con.execute(f"SELECT tenant_id, count(*) FROM cdm.{table} GROUP BY 1").fetchall())
            assert counts == [actual.get(t.name, 0) for t in world.ALL_TENANTS], table
    assert {"contacts", "invoices", "bills", "payments"} <= printed.keys()
    assert all(printed["contacts"][:3])  # spree's key lacks one endpoint only: its contacts are there


def test_rows_per_source_system_in_the_summary_are_the_warehouse_rows(demo):
    """Per source system: by the table's source_system column, else by its tenants' systems (marked *)."""
    out, results, _ = demo
    section = _section(out, "Rows per source system")
    systems = section.splitlines()[1].split()[1:]
    assert systems == ["lexware", "sevdesk"]
    printed = {
        m[1]: (bool(m[2]), [int(x.replace(",", "")) for x in m[3].split()])
        for m in re.finditer(r"^\s+((?:cdm|marts)\.\w+)( \*)?\s+([\d,\s]+?)$", section, re.M)
    }
    system_of = {t.name: t.system for t in world.ALL_TENANTS}
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        for table, (by_tenant, counts) in printed.items():
            schema, name = table.split(".")
            cols = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ?",
                    [schema, name],
                ).fetchall()
            }
            assert by_tenant == ("source_system" not in cols), table
            key = "tenant_id" if by_tenant else "source_system"
            actual: dict[str, int] = {}
            for k, n in con.execute(f"SELECT {key}, count(*) FROM {table} GROUP BY 1").fetchall():
                system = system_of[k] if by_tenant else k
                actual[system] = actual.get(system, 0) + n
            assert counts == [actual.get(s, 0) for s in systems], table
    assert {"cdm.invoices", "cdm.contacts", "marts.revenue_by_month"} <= printed.keys()
    assert printed["cdm.invoices"][1][0] > 0  # the Lexware tenants' invoices
    # the sevDesk tenant is modelled into the same cdm and marts
    assert printed["cdm.invoices"][1][1] > 0 and printed["cdm.contacts"][1][1] > 0
    assert printed["marts.revenue_by_month"][1][1] > 0


def test_the_sevdesk_tenant_is_synced_exactly(demo, seeded):
    """isar's raw_sevdesk tables equal the sevDesk sandbox's export (whole records) after the full sync,
    the write-back and the re-sync; each sync made the fewest requests a sevDesk sync can make."""
    out, results, _ = demo
    isar = world.ISAR.name
    assert results["ground_truth"][isar] == []
    assert re.search(r"raw_sevdesk tables equal the sevDesk sandbox's export \(.*tenant isar\): yes", out)
    for step in ("full_sync", "resync"):
        sync = results[step][isar]
        assert sync["status"] == "SUCCESS" and sync["requests"] == sync["minimum"], step
    assert results["full_sync"][isar]["minimum"] == world.minimum_sevdesk_sync_requests(seeded[isar])
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        for table in (
            "contacts",
            "invoices",
            "vouchers",
            "invoice_positions",
            "check_account_transaction_logs",
        ):
            ids = {
                r[0]
                for r in con.execute(
                    f"SELECT id FROM raw_sevdesk.{table} WHERE tenant_id = ?", [isar]
                ).fetchall()
            }
            assert ids == {r["id"] for r in seeded[isar][table]} and ids, table
        in_raw_sevdesk = {
            r[0] for r in con.execute("SELECT DISTINCT tenant_id FROM raw_sevdesk.contacts").fetchall()
        }
    assert in_raw_sevdesk == {isar}  # the Lexware tenants stay in raw_lexware


def test_the_sevdesk_write_back_is_applied_compare_before_write(demo, seeded):
    """One correction on the sevDesk tenant, through the same apply_corrections run: applied with one
    write, its audit rows name the weaker guarantee, the sevDesk books and (after the re-sync) the
    warehouse hold the new value."""
    out, results, _ = demo
    [sev] = [c for c in results["corrections"] if c["tenant"] == world.ISAR.name]
    assert (sev["status"], sev["puts"], sev["entity"], sev["field"]) == ("applied", 1, "bill", "due_date")
    assert sev["guarantees"] == ["compare_before_write"]
    assert sev["audit"][-2:] == ["save:written", "confirm:confirmed"]  # saveVoucher, re-read to confirm
    line = next(x for x in out.splitlines() if x.startswith(f"  #{sev['id']} bill.due_date"))
    assert "applied" in line and "compare_before_write" in line and "sevDesk" in line
    before = {v["id"]: v for v in seeded[world.ISAR.name]["vouchers"]}
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        vid = con.execute(
            "SELECT split_part(record_id, ':', 3) FROM writeback.corrections WHERE id = ?", [sev["id"]]
        ).fetchone()[0]
        raw = json.loads(
            con.execute(
                "SELECT raw FROM raw_sevdesk.vouchers WHERE tenant_id = ? AND id = ?", [world.ISAR.name, vid]
            ).fetchone()[0]
        )
    assert before[vid]["status"] == "50" and not before[vid]["enshrined"]  # a draft: sevDesk lets it change
    assert raw["paymentDeadline"][:10] == "2031-02-28" != (before[vid]["paymentDeadline"] or "")[:10]
    assert (raw["sumNet"], raw["sumGross"]) == (before[vid]["sumNet"], before[vid]["sumGross"])


def test_requests_and_rows_against_the_ground_truth(demo, seeded):
    _, results, _ = demo
    lexware = {name: export for name, export in seeded.items() if name != world.ISAR.name}
    for name, export in lexware.items():
        sync = results["full_sync"][name]
        assert sync["minimum"] == world.minimum_full_sync_requests(export)
        assert sync["requests"] == sync["minimum"] + sync["429"]  # every extra request is a 429 retry
    assert results["full_sync"]["elbe"]["429"] > 0  # the injected 429s were served ... and survived
    spree = results["full_sync"]["spree"]  # posting categories denied: one 403, that table skipped
    assert (spree["403"], spree["not_in_plan"]) == (1, ["raw_lexware/posting_categories"])
    assert spree["requests"] == spree["minimum"] + spree["429"]
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        for name, export in lexware.items():
            ids = {
                r[0]
                for r in con.execute(
                    "SELECT id FROM raw_lexware.contacts WHERE tenant_id = ?", [name]
                ).fetchall()
            }
            assert ids == {c["id"] for c in export["contacts"]}
            invoices = con.execute(
                "SELECT count(*) FROM cdm.invoices WHERE tenant_id = ? AND "
                "raw_table = 'raw_lexware.invoices'",
                [name],
            ).fetchone()[0]
            assert invoices == len(export["invoices"])
    assert results["ground_truth"] == {t.name: [] for t in world.ALL_TENANTS}


def test_write_back_outcomes_are_in_lexware_and_the_warehouse(demo, seeded):
    _, results, _ = demo
    applied, retried, conflict = [c for c in results["corrections"] if c["tenant"] == world.ELBE.name]
    assert (applied["status"], applied["puts"]) == ("applied", 1)
    assert (retried["status"], retried["puts"]) == ("applied", 2)
    assert (conflict["status"], conflict["puts"]) == ("conflict", 0)
    [edit] = results["colleague_edits"]  # the colleague saved exactly once, between GET and PUT
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        rows = dict(
            con.execute(
                "SELECT field, (SELECT to_json(c) FROM cdm.contacts AS c WHERE c.id = w.record_id) "
                "FROM writeback.corrections AS w WHERE entity = 'contact' AND tenant = 'elbe'"
            ).fetchall()
        )
        raw = con.execute(
            "SELECT raw ->> '$.note' FROM raw_lexware.contacts WHERE tenant_id = 'elbe' "
            "AND '/v1/contacts/' || id = ?",
            [edit["path"]],
        ).fetchone()[0]
        due = con.execute(
            "SELECT due_date::VARCHAR FROM cdm.bills AS b JOIN writeback.corrections AS w "
            "ON w.record_id = b.id WHERE w.field = 'due_date' AND w.tenant = 'elbe'"
        ).fetchone()[0]
    assert json.loads(rows["email"])["email"] == "buchhaltung@elbe-demo.example"
    assert raw == edit["changes"]["note"]  # the colleague's change survived our retry
    seen_vat = {
        c["id"]: (c.get("company") or {}).get("vatRegistrationId") for c in seeded["elbe"]["contacts"]
    }
    vat_now = json.loads(rows["vat_id"])
    assert vat_now["vat_id"] != seen_vat[vat_now["remote_id"]]  # the colleague's value, not overwritten ...
    assert vat_now["vat_id"] != valid_de_vat_id(21000000)  # ... and not ours
    assert due == "2031-01-31"


def test_every_step_is_a_successful_dagster_run_with_checks(demo):
    _, results, tmp = demo
    instance = DagsterInstance.from_config(str(tmp / "dagster"))
    try:
        runs = {r["run_id"]: r for r in results["runs"]}
        for run_id, r in runs.items():
            assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS, r["label"]
        jobs = {instance.get_run_by_id(i).job_name for i in runs}
    finally:
        instance.dispose()
    assert {"kontor_transform", "apply_corrections"} <= jobs and len(runs) == 4 + 1 + 1 + 4 + 1
    checks = [c for r in results["runs"] if r["label"] == "6-rebuild" for c in r["checks"]]
    assert len(checks) > 20 and all(c["passed"] for c in checks)


def test_refuses_to_wipe_a_warehouse_it_did_not_create(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).execute("CREATE TABLE mine AS SELECT 42 AS answer").close()
    proc = subprocess.run(
        [sys.executable, "-m", "demo", "--data-dir", str(data), "--dagster-home", str(tmp_path / "dagster")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "was not created by the demo" in proc.stderr
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT answer FROM mine").fetchone() == (42,)


def test_refuses_a_demo_dir_that_now_holds_other_tenants(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / ".kontor-demo").write_text("")
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA raw_lexware")
        con.execute("CREATE TABLE raw_lexware.contacts AS SELECT 'acme' AS tenant_id, 'x' AS id")
    proc = subprocess.run(
        [sys.executable, "-m", "demo", "--data-dir", str(data), "--dagster-home", str(tmp_path / "dagster")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "holds tenants ['acme']" in proc.stderr
    assert (data / "warehouse.duckdb").exists()


def test_the_marts_are_as_of_the_sandboxs_date_not_the_machines(demo, seeded):
    out, results, _ = demo
    with start_sandbox(
        tenants={"x": "x-key"}, rate_limit=0, contacts=1, invoices=1, vouchers=1, credit_notes=0
    ) as fresh:  # a sandbox's clock starts where the demo's did
        sandbox_day = world.sandbox_date(fresh.clock()).isoformat()
    assert results["as_of"] == sandbox_day and f"Marts as of {sandbox_day}" in out
    with duckdb.connect(results["warehouse"], read_only=True) as con:
        assert str(con.execute("SELECT as_of_date FROM marts.as_of").fetchone()[0]) == sandbox_day
        not_yet_due, due_later = con.execute(
            "SELECT (SELECT sum(not_yet_due_amount) FROM marts.ar_aging), (SELECT sum(open_amount) FROM "
            "marts.document_balances WHERE document_table = 'invoices' AND open_amount > 0 "
            "AND due_date >= ?::DATE)",
            [sandbox_day],
        ).fetchone()
    # the books' today: what falls due after the sandbox's date is "not yet due" (as of the machine's
    # date, weeks later, nothing would be)
    assert not_yet_due > 0 and not_yet_due == due_later


def test_demo_ui_brings_the_sandbox_back_and_every_job_runs(demo):
    """`make demo-ui`'s environment: the same port and books the demo left, keys set; a sync, a
    backfill window, a dry run of the write-back and a model build all succeed as Dagster runs."""
    from demo.dagster_cli import DagsterRunner
    from demo.ui import automation_states, banner, demo_environment

    out, results, tmp = demo
    saved = json.loads((tmp / "data" / "sandbox.demo.json").read_text())
    with demo_environment(tmp / "data", tmp / "dagster") as (env, sandbox, sevdesk):
        assert sandbox.base_url == saved["base_url"] and sevdesk.base_url == saved["sevdesk"]["base_url"]
        [sev] = [c for c in results["corrections"] if c["tenant"] == world.ISAR.name]
        deadlines = {
            v["paymentDeadline"][:10]
            for v in sevdesk.export(world.ISAR.name)["vouchers"]
            if v["paymentDeadline"]
        }
        assert sev["new_value"] in deadlines, "the sevDesk books as the demo left them (its write-back)"
        assert f"base_url: {sevdesk.base_url}/api/v1" in (tmp / "data" / "kontor.demo.yaml").read_text()
        renamed = [
            c
            for c in sandbox.export("nordlicht")["contacts"]
            if (c.get("company") or {}).get("name", "").endswith("(neu)")
        ]
        assert len(renamed) == 1, "the books as the demo left them (its rename is there)"
        assert f"base_url: {sandbox.base_url}" in (tmp / "data" / "kontor.demo.yaml").read_text()
        runner = DagsterRunner(tmp / "dagster", env, tmp / "ui-logs")
        launched = [
            runner.materialize("ui-sync", "group:raw_lexware", "spree"),
            runner.materialize("ui-sevdesk-sync", "group:raw_sevdesk", world.ISAR.name),
            runner.execute_job(
                "ui-dry-run",
                "apply_corrections",
                {"ops": {"apply_pending_corrections": {"config": {"dry_run": True}}}},
            ),
        ]
        outcomes = runner.wait(launched)
        assert [o.status for o in outcomes] == ["SUCCESS"] * 3, [o.label for o in outcomes]
        states = automation_states(tmp / "dagster")
        text = banner(sandbox, "http://127.0.0.1:3000", states, results["as_of"], sevdesk)
    assert f"{sevdesk.base_url}/api/v1" in text and world.ISAR.key_env in text
    named = {
        "lexware_hourly": "RUNNING",
        "kontor_model_automation": "RUNNING",
        "pending_corrections_sensor": "STOPPED",
    }  # the ones the summary names
    assert {name: states.get(name) for name in named} == named
    assert all(f"{name:<28} {state:<8}" in text for name, state in states.items())  # the banner lists all
    summary = " ".join(out.split())  # what the summary states is what the instance runs
    assert (
        "schedule lexware_hourly and sensor kontor_model_automation run there, "
        "pending_corrections_sensor is off"
    ) in summary and "make demo-ui" in summary
    assert "every job runs" in text and sandbox.base_url in text


def test_demo_ui_without_a_demo_says_what_to_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "demo.ui", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "run `make demo` first" in proc.stderr
