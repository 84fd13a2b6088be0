"""The warehouse on PostgreSQL (`warehouse: {engine: postgres, url_env: ...}`), end to end against the
Lexware sandbox: full sync, incremental runs with churn, a backfill, a version-checked write-back and its
re-sync - the raw layer equal to the sandbox's ground truth after each -, the model build with its tests,
the five analyst queries, and the read-only analyst role of docs/postgres.md. No file lock, no snapshot.

PostgreSQL through KONTOR_TEST_POSTGRES (tests/services.py): own database and role, dropped afterwards;
without a server the tests skip with one line, under CI=true they fail."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg2
import pytest

from core.config import ConfigError, PostgresWarehouse, load_config
from core.warehouse import WarehouseUnreachable, connect, create_objects, dbt_env, snapshot_path, tables_in
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.sync import pipeline_for, sync_tenant
from pipelines.writeback.executor import CorrectionExecutor
from pipelines.writeback.inputs import import_corrections_file
from pipelines.writeback.model import Correction
from pipelines.writeback.resync import resync_touched
from pipelines.writeback.store import WritebackStore, pending_summary
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, count_rows, rows
from tests.services import postgres_database
from tests.test_transforms_dictionary import analyst_queries
from tests.test_writeback_sandbox import NEW_VATS, _updatable

ROOT = Path(__file__).resolve().parent.parent
KEY, KEY_ENV, URL_ENV = "pg-key", "KONTOR_TEST_PG_KEY", "KONTOR_TEST_WAREHOUSE_URL"
SECRET = "pw-" + uuid.uuid4().hex[:12]  # a password in the URL (trust auth ignores it): never shown
TABLES = ("contacts", "voucherlist", "invoices", "credit_notes", "vouchers", "payments")
BERLIN = ZoneInfo("Europe/Berlin")


def with_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{SECRET}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def pg_config(folder: Path, base_url: str, rps: float = 1000):
    (folder / "kontor.yaml").write_text(
        textwrap.dedent(f"""
        warehouse:
          engine: postgres
          url_env: {URL_ENV}
          data_dir: state
        tenants:
          - name: demo
            base_url: {base_url}
            api_key_env: {KEY_ENV}
            rps: {rps}
    """),
        encoding="utf-8",
    )
    return load_config(folder / "kontor.yaml")


def analyst_role_sql(role: str) -> str:
    """The read-only role block of docs/postgres.md, for a role of this test's own name."""
    text = (ROOT / "docs" / "postgres.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```sql\n(.*?)```", text, flags=re.S) if "CREATE ROLE" in b)
    return block.replace("kontor_analyst", role)


def assert_exact(cfg, export: dict) -> None:
    assert_matches_export(cfg, export, "demo")
    for table in TABLES:
        total, distinct = count_rows(cfg, table)
        assert total == distinct, f"{table}: {total - distinct} duplicate rows"


def run_sql(url: str, sql: str) -> None:
    con = psycopg2.connect(url)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


def assert_read_only(admin_url: str, role: str, tables: tuple[str, ...], writes: tuple[str, ...]) -> None:
    """The role selects from these tables (each holds rows) and every one of `writes` is refused: its
    sessions are read-only, and even a session switched to read-write lacks the privileges."""
    parts = urlsplit(admin_url)
    con = psycopg2.connect(urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}")))
    con.autocommit = True
    try:
        with con.cursor() as cur:
            for table in tables:
                cur.execute(f"SELECT count(*) FROM {table}")
                assert cur.fetchone()[0] > 0, table
            with pytest.raises(psycopg2.Error, match="read-only transaction"):
                cur.execute(writes[0])
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            for statement in (*writes, "CREATE TABLE public.mine (a int)", "CREATE SCHEMA mine"):
                with pytest.raises(psycopg2.Error, match=r"permission denied|must be owner"):
                    cur.execute(statement)
    finally:
        con.close()


def query(cfg, sql: str, params: list | None = None) -> list[tuple]:
    with connect(cfg.warehouse) as con:
        return con.execute(sql, params).fetchall()


@pytest.fixture
def pg(monkeypatch):
    """A fresh database; its URL (with a password) in URL_ENV."""
    with postgres_database("pgwh") as url:
        monkeypatch.setenv(URL_ENV, with_password(url))
        yield url


@pytest.fixture
def role(pg):
    """A LOGIN role of this test (roles are cluster-wide), dropped after its database."""
    name = f"kontor_t_analyst_{uuid.uuid4().hex[:8]}"
    yield name
    con = psycopg2.connect(pg)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        if cur.fetchone():
            cur.execute(f'DROP OWNED BY "{name}"')  # its grants here, the database's CONNECT included
            cur.execute(f'DROP ROLE "{name}"')
    con.close()


def test_the_config_names_the_engine_and_the_variable_never_the_url(tmp_path, monkeypatch):
    def load(text: str):
        (tmp_path / "kontor.yaml").write_text(
            text + "tenants:\n  - name: a\n    base_url: http://x\n    api_key_env: K\n", encoding="utf-8"
        )
        return load_config(tmp_path / "kontor.yaml")

    cfg = load(f"warehouse:\n  engine: postgres\n  url_env: {URL_ENV}\n")
    assert isinstance(cfg.warehouse, PostgresWarehouse) and cfg.engine == "postgres"
    assert cfg.data_dir == tmp_path / "data" and cfg.tenant("a").ratelimit_path.parent.parent == cfg.data_dir
    assert load("warehouse: {engine: duckdb, path: w.duckdb}\n").warehouse == tmp_path / "w.duckdb"
    assert load("").warehouse == tmp_path / "data" / "warehouse.duckdb"
    problems = {
        "warehouse:\n  engine: postgres\n": "engine 'postgres' needs 'url_env'",
        "warehouse:\n  engine: postgres\n  url_env: X\n  path: w.duckdb\n": "'path' is the DuckDB file",
        "warehouse:\n  engine: duckdb\n  url_env: X\n": "'url_env' is for engine 'postgres'",
        "warehouse:\n  engine: oracle\n": "field 'engine' must be one of ['duckdb', 'postgres'], got 'or",
        "warehouse:\n  engine: postgres\n  url_env: 'postgresql://u:p@h/db'\n": "field 'url_env' must be "
        "the NAME of an environment",
        "warehouse:\n  engine: postgres\n  url: postgresql://u:p@h/db\n": "never put the URL or password",
    }
    for text, message in problems.items():
        with pytest.raises(ConfigError) as err:
            load(text)
        assert message in str(err.value) and "warehouse:" in str(err.value), str(err.value)
        assert "u:p@h" not in str(err.value).replace("'postgresql://u:p@h/db'", "")  # the URL only as input
    monkeypatch.delenv(URL_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"environment variable {URL_ENV} \\(url_env\\) is not set"):
        connect(cfg.warehouse)
    monkeypatch.setenv(URL_ENV, "postgresql://db.example")  # no database named
    with pytest.raises(ConfigError, match=f"{URL_ENV} must hold a URL postgresql://"):
        connect(cfg.warehouse)
    monkeypatch.setenv(URL_ENV, f"postgresql://kontor:{SECRET}@127.0.0.1:1/kontor")  # nobody listens on 1
    with pytest.raises(WarehouseUnreachable) as err:
        connect(cfg.warehouse)
    assert "postgresql://kontor:***@127.0.0.1:1/kontor" in str(err.value) and SECRET not in str(err.value)
    assert SECRET not in repr(cfg) and SECRET not in str(cfg.warehouse)
    assert dbt_env(cfg.warehouse)["KONTOR_PG_PASSWORD"] == SECRET  # only for dbt's profile, in its env


def test_sync_churn_backfill_writeback_on_postgres_equal_the_ground_truth(
    pg, role, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(KEY_ENV, KEY)
    run_sql(pg, analyst_role_sql(role))  # the analysts' role, before any data: default privileges
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small", churn=40) as sb:
        cfg = pg_config(tmp_path, sb.base_url)
        deadline = time.monotonic() + 10
        while not sb.churn()["edits"] and time.monotonic() < deadline:
            time.sleep(0.05)
        sb.churn(0)

        # full sync: the raw layer equals the ground truth; no snapshot or lock file in PostgreSQL mode
        first = sync_tenant(cfg, "demo")
        assert first.complete and first.client["rate_limited_429"] == 0
        assert_exact(cfg, sb.export("demo"))
        assert first.live_rows["contacts"] == len(sb.export("demo")["contacts"])
        assert not list(cfg.data_dir.rglob("*.duckdb")) and not list(cfg.data_dir.rglob("*.duckdb.lock"))
        assert not snapshot_path(cfg.data_dir / "warehouse.duckdb").exists()
        with connect(cfg.warehouse) as con:
            assert {"contacts", "voucherlist", "_dlt_pipeline_state"} <= tables_in(con, "raw_lexware")
            assert con.execute("SELECT count(*) FROM kontor.tenant_bindings").fetchone()[0] == 1
            assert con.execute(
                "SELECT count(*) FROM meta.raw_table_access WHERE tenant_id = 'demo'"
            ).fetchone()[0] >= len(TABLES)

        # incremental with churn (edits, payments, deletes by another user), then a reconciling run
        for _ in range(2):
            sb.churn(40)
            time.sleep(1.5)
            sb.churn(0)
            export = sb.export("demo")
            gone = rows(cfg, "voucherlist", "demo").keys() - {e["id"] for e in export["voucherlist"]}
            sync_tenant(cfg, "demo", reconcile=False)
            flagged = sync_tenant(cfg, "demo", reconcile=True)
            assert flagged.complete
            assert_exact(cfg, export)
            assert gone <= rows(cfg, "voucherlist", "demo", deleted=True).keys()
            if gone:
                assert flagged.flagged_deleted.get("voucherlist", 0) == len(gone)

        # a backfill re-reads exactly its window and leaves the cursor where it was
        state = pipeline_for(cfg, cfg.tenant("demo")).state["sources"]["lexware"]["resources"]["voucherlist"]
        mark = state["lwm"]
        start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
        window = {
            e["id"]
            for e in export["voucherlist"]
            if start <= dt.datetime.fromisoformat(e["voucherDate"]).astimezone(BERLIN).date() <= end
        }
        backfill = sync_tenant(cfg, "demo", mode="backfill", voucher_date_from=start, voucher_date_to=end)
        reloaded = {
            r[0]
            for r in query(
                cfg, "SELECT id FROM raw_lexware.voucherlist WHERE _dlt_load_id = ?", [backfill.load_id]
            )
        }
        assert window and reloaded == window
        after = pipeline_for(cfg, cfg.tenant("demo")).state["sources"]["lexware"]["resources"]["voucherlist"]
        assert after["lwm"] == mark
        assert_exact(cfg, export)

        # a version-checked write-back into the same database, then the re-sync of what it touched
        store = WritebackStore.open(cfg.warehouse)
        cid = next(c["id"] for c in export["contacts"] if _updatable(c))
        before = next(c for c in export["contacts"] if c["id"] == cid)
        fixes = tmp_path / "fixes.csv"  # one valid row, one an analyst got wrong: kept as rejected
        fixes.write_text(
            "tenant,entity,record_id,field,new_value,expected_old_value\n"
            f"demo,contact,lexware:demo:{cid},vat_id,{next(NEW_VATS)},"
            f"{before['company'].get('vatRegistrationId') or ''}\n"
            f"demo,contact,lexware:demo:{cid},vat_id,DE123,\n",
            encoding="utf-8",
        )
        corr, bad = import_corrections_file(store, fixes, known_tenants={"demo"})
        assert store.get(bad).status == "rejected" and store.get(bad).reason
        with pytest.raises(psycopg2.Error, match="unknown field 'colour' for contact"):  # the CHECK holds
            store.insert_corrections(
                [Correction(tenant="demo", entity="contact", record_id="x", field="colour", new_value="red")],
                source="test",
            )
        assert pending_summary(cfg.warehouse)[0] == 1
        with LexwareClient(cfg.tenant("demo")) as client:
            report = CorrectionExecutor(
                store, lambda _: client, known_tenants={"demo"}, backoff_initial=0.01, backoff_max=0.05
            ).run()
        applied = store.get(corr)
        assert applied.status == "applied", applied.reason
        assert applied.applied_version == before["version"] + 1
        assert {r["action"] for r in store.audit_rows(corr)} >= {"put"}
        assert pending_summary(cfg.warehouse)[0] == 0
        [resynced] = resync_touched(cfg, report.touched())
        assert not resynced.stale and resynced.rows.get("contacts") == 1
        export = sb.export("demo")
        assert rows(cfg, "contacts", "demo")[cid]["version"] == applied.applied_version
        assert_exact(cfg, export)

    # the read-only role reads what Kontor created after it, and writes nothing
    assert_read_only(
        pg,
        role,
        ("raw_lexware.contacts", "writeback.audit", "kontor.tenant_bindings", "meta.raw_table_access"),
        (
            "INSERT INTO writeback.corrections (tenant, entity, record_id, field) "
            "VALUES ('demo', 'contact', 'x', 'vat_id')",
            "UPDATE raw_lexware.contacts SET is_deleted = true",
            "DELETE FROM writeback.audit",
            "CREATE TABLE raw_lexware.mine (a int)",
        ),
    )
    assert not [r for r in caplog.records if SECRET in r.getMessage()]  # the URL's password in no log line
    assert not [p for p in cfg.data_dir.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def test_models_build_on_postgres_and_the_analyst_queries_run(pg, role, tmp_path, monkeypatch):
    """dbt-postgres builds and tests every model on the synced raw layer (same project as DuckDB), the
    five analyst queries of the README run as written, and the read-only role reads the marts."""
    from transforms.project import build

    monkeypatch.setenv(KEY_ENV, KEY)
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small") as sb:
        cfg = pg_config(tmp_path, sb.base_url)
        assert sync_tenant(cfg, "demo").complete
        export = sb.export("demo")
    WritebackStore.open(cfg.warehouse)
    run_sql(pg, analyst_role_sql(role))  # after the raw layer exists: the grants on existing tables
    result = build(cfg.warehouse, as_of=dt.date(2026, 1, 31))
    failed = [(n.name, n.status, n.message) for n in result.nodes if n.blocks]
    assert result.ok, failed[:10]
    assert result.published and not list(cfg.data_dir.rglob("*.duckdb"))  # complete; nothing to copy
    assert len([n for n in result.nodes if not n.is_model]) >= 40
    assert query(cfg, "SELECT count(*) FROM cdm.contacts")[0][0] == len(export["contacts"])
    booked = [v for v in export["vouchers"] if v["type"] == "salesinvoice"]  # booked sales invoices
    assert query(cfg, "SELECT count(*) FROM cdm.invoices")[0][0] == len(export["invoices"]) + len(booked)
    for n, sql in enumerate(analyst_queries(), 1):
        assert query(cfg, sql) or n == 3, f"analyst query {n} returned nothing"
    assert_read_only(
        pg,
        role,
        ("raw_lexware.invoices", "cdm.invoices", "marts.ar_aging", "marts.as_of"),
        ("DELETE FROM cdm.contacts", "CREATE TABLE marts.mine (a int)", "DROP TABLE marts.ar_aging"),
    )


def test_runs_creating_the_schemas_at_once_do_not_collide(pg, tmp_path):
    """Many tenants' first runs on one database: CREATE ... IF NOT EXISTS of the same objects at once
    (tenant bindings, table access, write-back tables) all succeed, each object once."""
    from concurrent.futures import ThreadPoolExecutor

    from pipelines.lexware.binding import SCHEMA_SQL as BINDINGS
    from pipelines.lexware.sync import ACCESS_DDL

    warehouse = PostgresWarehouse(URL_ENV, tmp_path)

    def first_run(_: int) -> None:
        WritebackStore.open(warehouse)
        with connect(warehouse) as con:
            create_objects(con, BINDINGS)
            create_objects(con, ACCESS_DDL)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(first_run, range(16)))
    with connect(warehouse) as con:
        assert tables_in(con, "writeback") == {"corrections", "audit", "operations"}
        assert tables_in(con, "kontor") == {"tenant_bindings"}
        assert tables_in(con, "meta") == {"raw_table_access"}


def test_a_sevdesk_tenant_syncs_into_postgres_equal_to_its_ground_truth(pg, tmp_path, monkeypatch):
    """The sevDesk pipeline on the same PostgreSQL warehouse: full sync equal to the export, a deleted
    draft invoice confirmed and flagged (its positions too) by a reconciling run."""
    from pipelines.sevdesk import settings as sev
    from pipelines.sevdesk.sync import sync_tenant as sync_sevdesk

    monkeypatch.setenv(KEY_ENV, KEY)

    def live(table: str, deleted: bool = False) -> dict[str, dict]:
        found = query(
            cfg,
            f"SELECT id, raw FROM raw_sevdesk.{table} "
            "WHERE tenant_id = 'nord' AND coalesce(is_deleted, false) = ?",
            [deleted],
        )
        return {i: json.loads(raw) for i, raw in found}

    with start_sandbox(
        system="sevdesk", tenants={"nord": KEY}, contacts=15, invoices=30, vouchers=15, credit_notes=3
    ) as sb:
        (tmp_path / "kontor.yaml").write_text(
            textwrap.dedent(f"""
            warehouse: {{engine: postgres, url_env: {URL_ENV}}}
            tenants:
              - {{name: nord, system: sevdesk, base_url: "{sb.base_url}/api/v1", api_key_env: {KEY_ENV},
                 rps: 1000}}
        """),
            encoding="utf-8",
        )
        cfg = load_config(tmp_path / "kontor.yaml")
        first = sync_sevdesk(cfg, "nord")
        export = sb.export("nord")
        assert first.reconciled and first.rows["invoices"] == len(export["invoices"])
        for table in sev.TABLES:
            assert live(table) == {r["id"]: r for r in export[table]}, table
        draft = next(i for i in export["invoices"] if i["status"] == "100")
        positions = {p["id"] for p in export["invoice_positions"] if p["invoice"]["id"] == draft["id"]}
        sb.edit("nord", "Invoice", draft["id"], action="delete")
        result = sync_sevdesk(cfg, "nord", reconcile=True)
        assert result.flagged_deleted == {"invoices": 1, "invoice_positions": len(positions)}
        assert live("invoices", deleted=True) == {draft["id"]: draft}
        assert live("invoice_positions", deleted=True).keys() == positions


def test_the_dagster_raw_asset_loads_into_postgres(pg, tmp_path, monkeypatch):
    """The Lexware raw asset as Dagster runs it, on a PostgreSQL warehouse: rows and figures in its
    metadata, no secret in it."""
    from dagster import AssetKey, DagsterInstance, materialize

    from assets.extraction import KontorConfigResource, lexware_raw

    monkeypatch.setenv(KEY_ENV, KEY)
    with start_sandbox(
        tenants={"demo": KEY}, rate_limit=1000, contacts=10, invoices=20, vouchers=10, credit_notes=2
    ) as sb:
        cfg = pg_config(tmp_path, sb.base_url)
        result = materialize(
            [lexware_raw],
            partition_key="demo",
            instance=DagsterInstance.ephemeral(),
            resources={"kontor": KontorConfigResource(path=str(cfg.path))},
        )
        export = sb.export("demo")
    assert result.success
    mats = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("lexware_raw")}
    invoices = mats[AssetKey(["raw_lexware", "invoices"])]
    assert invoices["dagster/row_count"].value == len(export["invoices"]) > 0
    assert SECRET not in str({str(k): str(v) for m in mats.values() for k, v in m.items()})
    assert_matches_export(cfg, export, "demo")


def test_check_config_reaches_the_database_and_never_prints_the_url(pg, tmp_path, monkeypatch, capsys):
    from pipelines.cli import check_config

    monkeypatch.setenv(KEY_ENV, KEY)
    cfg = pg_config(tmp_path, "http://127.0.0.1:9")
    assert check_config(str(cfg.path)) == 0
    out = capsys.readouterr()
    assert f"warehouse PostgreSQL (URL in ${URL_ENV})" in out.out and SECRET not in out.out + out.err
    monkeypatch.setenv(URL_ENV, urlunsplit(urlsplit(with_password(pg))._replace(path="/no_such_db_kontor")))
    assert check_config(str(cfg.path)) == 2
    out = capsys.readouterr()
    assert "not reachable" in out.err and "no_such_db_kontor" in out.err and SECRET not in out.out + out.err
    monkeypatch.delenv(URL_ENV)
    assert check_config(str(cfg.path)) == 2
    assert f"environment variable {URL_ENV} (url_env) is not set" in capsys.readouterr().err
