"""The models on PostgreSQL equal those on DuckDB: the same Lexware sandbox books, loaded with dlt into a
DuckDB warehouse (the normal sync) and into a fresh PostgreSQL database (dlt's postgres destination, same
source), are built and tested with dbt on each engine; every cdm table, every mart and the quarantine are
then compared row for row. The same for a warehouse holding a Lexware and a sevDesk tenant, each synced by
its own source into a DuckDB and into a PostgreSQL warehouse (`warehouse: {engine: postgres}`).

PostgreSQL through KONTOR_TEST_POSTGRES (tests/services.py); without a reachable server the test skips with
one line, except under CI=true."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from decimal import Decimal
from typing import Any

import dlt
import duckdb
import psycopg2
import pytest
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from bench.sandbox_sync import write_config
from core.config import KontorConfig, load_config
from pipelines.lexware import lexware_source, settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.helpers import RunReport
from pipelines.lexware.sync import sync_tenant
from pipelines.sevdesk.sync import sync_tenant as sync_sevdesk
from sandbox.process import start_sandbox
from tests.conftest import SANDBOX_KEY
from tests.services import postgres_database
from transforms.project import Build, NodeOutcome, build, build_args, dbt_environment, invoke, outcomes

AS_OF = dt.date(2026, 1, 31)
KEY_ENV = "KONTOR_TEST_PG_DEMO_KEY"
SEV_KEY, SEV_KEY_ENV, URL_ENV = "pg-sev-key", "KONTOR_TEST_PG_SEV_KEY", "KONTOR_TEST_PG_SEV_WAREHOUSE"
COMPARED_SCHEMAS = ("cdm", "marts", "quarantine")
# differ by construction: the time each engine's load or build ran
UNCOMPARED_COLUMNS = {"loaded_at", "detected_at"}


@pytest.fixture(scope="module")
def engines(sandbox, tmp_path_factory):
    """(DuckDB build, PostgreSQL outcomes, DuckDB path, PostgreSQL URL) of the same sandbox books."""
    folder = tmp_path_factory.mktemp("pg")
    mp = pytest.MonkeyPatch()
    mp.setenv(KEY_ENV, SANDBOX_KEY)
    try:
        cfg = write_config(folder, sandbox.base_url, {"demo": KEY_ENV})
        sync_tenant(cfg, "demo", mode="full")
        duck = build(cfg.warehouse, AS_OF)
        with postgres_database("marts") as url:
            load_into_postgres(cfg, url, folder)
            with dbt_environment(cfg.warehouse, postgres_url=url, as_of=AS_OF):
                pg = outcomes(invoke(build_args()))
            yield duck, pg, cfg.warehouse, url
    finally:
        mp.undo()


def load_into_postgres(cfg, url: str, folder) -> None:
    """The Lexware source of tenant demo, run by a dlt pipeline with the postgres destination."""
    credentials = PostgresCredentials()
    credentials.parse_native_representation(url)
    credentials.password = credentials.password or ""  # trust auth: dlt wants the field set
    pipeline = dlt.pipeline(
        pipeline_name="kontor_lexware_pg_demo",
        pipelines_dir=str(folder / ".dlt-pg"),
        destination=dlt.destinations.postgres(credentials=credentials),
        dataset_name=settings.DATASET,
    )
    client = LexwareClient(cfg.tenant("demo"))
    try:
        info = pipeline.run(lexware_source(client, RunReport("demo"), "full"))
    finally:
        client.close()
    info.raise_on_failed_jobs()


def statuses(nodes: list[NodeOutcome]) -> dict[str, str]:
    return {n.unique_id: n.status for n in nodes}


def test_every_model_and_test_runs_on_postgres_as_on_duckdb(engines):
    duck, pg, _, _ = engines
    assert isinstance(duck, Build) and duck.ok, [n for n in duck.nodes if n.blocks]
    failed = [(n.name, n.status, n.message) for n in pg if n.blocks]
    assert not failed, failed
    assert statuses(pg) == statuses(duck.nodes)  # same models and tests, same verdicts (warnings too)
    assert sum(n.is_model for n in pg) >= 30 and sum(n.unique_id.startswith("test.") for n in pg) >= 40


def norm(value: Any) -> Any:
    """An engine-neutral form: numbers by value, instants in UTC, lists as tuples, JSON text parsed."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (Decimal, int, float)):
        return Decimal(str(value)).normalize()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(norm(v) for v in value)
    if isinstance(value, str) and value[:1] in "[{":
        try:  # a quarantined JSON part: DuckDB writes its typed struct (absent members as null)
            return json.dumps(without_nulls(json.loads(value)), sort_keys=True)
        except ValueError:
            return value
    return value


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """{schema.table: columns} of the compared schemas in the DuckDB warehouse."""
    found: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        f"WHERE table_schema IN {COMPARED_SCHEMAS} AND table_catalog = current_database() "
        "ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall():
        if column not in UNCOMPARED_COLUMNS:
            found.setdefault(f"{schema}.{table}", []).append(column)
    return found


def rows(cursor, table: str, columns: list[str]) -> list[tuple]:
    cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
    return sorted((tuple(norm(v) for v in row) for row in cursor.fetchall()), key=repr)


def explain(columns: list[str], duck: list[tuple], pg: list[tuple]) -> list[Any]:
    """Row counts and, for up to three rows only one engine has, the columns that differ from the other
    engine's row with the same first column (the key)."""
    theirs = {r[0]: r for r in pg}
    diffs: list[Any] = [f"{len(duck)} rows on DuckDB, {len(pg)} on PostgreSQL"]
    for row in [r for r in duck if r not in set(pg)][:3]:
        other = theirs.get(row[0])
        diffs.append(
            {c: (a, b) for c, a, b in zip(columns, row, other, strict=True) if a != b}
            if other
            else {"only on DuckDB": row}
        )
    return diffs


def compare(warehouse, url: str) -> dict[str, int]:
    """Assert every cdm, mart and quarantine table equal on both engines; returns {table: rows}."""
    duck = duckdb.connect(str(warehouse), read_only=True)
    pg = psycopg2.connect(url)
    try:
        compared = tables(duck)
        with pg.cursor() as cur:
            cur.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema IN %s AND table_type = 'BASE TABLE'",
                (COMPARED_SCHEMAS,),
            )
            assert {r[0] for r in cur.fetchall()} == set(compared)
            differences, sizes = {}, {}
            for table, columns in compared.items():
                mine, theirs = rows(duck.cursor(), table, columns), rows(cur, table, columns)
                sizes[table] = len(mine)
                if mine != theirs:
                    differences[table] = explain(columns, mine, theirs)
        assert not differences, differences
        return sizes
    finally:
        duck.close()
        pg.close()


def test_cdm_marts_and_quarantine_equal_row_for_row(engines):
    _, _, warehouse, url = engines
    sizes = compare(warehouse, url)
    assert {
        "cdm.invoices",
        "cdm.invoice_lines",
        "cdm.payments",
        "marts.ar_aging",
        "marts.dso_by_month",
        "marts.revenue_by_month",
        "quarantine.issues",
    } <= set(sizes)
    for table in (
        "cdm.invoices",
        "cdm.invoice_lines",
        "cdm.contacts",
        "cdm.payments",
        "marts.ar_aging",
        "marts.revenue_by_month",
        "marts.dso_by_month",
        "marts.customer_balances",
    ):
        assert sizes[table] > 0, f"{table} is empty: nothing was compared"


# ---- a Lexware and a sevDesk tenant in one warehouse, synced into each engine -------------------------
def mixed_config(folder, warehouse: str, lexware_url: str, sevdesk_url: str) -> KontorConfig:
    """kontor.yaml of tenant demo (Lexware) and tenant sev (sevDesk) on this `warehouse:` value."""
    folder.mkdir()
    (folder / "kontor.yaml").write_text(
        textwrap.dedent(f"""
        warehouse: {warehouse}
        tenants:
          - {{name: demo, base_url: "{lexware_url}", api_key_env: {KEY_ENV}, rps: 1000}}
          - {{name: sev, system: sevdesk, base_url: "{sevdesk_url}/api/v1", api_key_env: {SEV_KEY_ENV},
             rps: 1000}}
    """),
        encoding="utf-8",
    )
    return load_config(folder / "kontor.yaml")


def plant_unknown_codes(sb) -> None:
    """Unknown codes on sevDesk drafts (kept and flagged, or rejected) and a payment of a missing document:
    quarantine rows to compare."""
    export = sb.export("sev")
    drafts = [i["id"] for i in export["invoices"] if i["status"] == "100"]
    draft_vouchers = [v["id"] for v in export["vouchers"] if v["status"] == "50"]
    sb.edit("sev", "Invoice", drafts[0], {"status": "300"})
    sb.edit("sev", "Invoice", drafts[1], {"invoiceType": "MA"})
    sb.edit("sev", "Voucher", draft_vouchers[0], {"taxRule": {"id": "99", "objectName": "TaxRule"}})
    sb.edit("sev", "Voucher", draft_vouchers[1], {"voucherType": "RV"})
    log = export["check_account_transaction_logs"][0]["id"]  # a payment of a document not in the warehouse
    sb.edit(
        "sev", "CheckAccountTransactionLog", log, {"object": {"id": "990000001", "objectName": "Invoice"}}
    )


@pytest.fixture(scope="module")
def mixed(sandbox, tmp_path_factory):
    """(DuckDB build, PostgreSQL build, DuckDB path, PostgreSQL URL) of the same Lexware + sevDesk books."""
    folder = tmp_path_factory.mktemp("pgmixed")
    mp = pytest.MonkeyPatch()
    try:
        with (
            start_sandbox(
                system="sevdesk",
                tenants={"sev": SEV_KEY},
                contacts=15,
                invoices=40,
                vouchers=16,
                credit_notes=4,
            ) as sev,
            postgres_database("sevmarts") as url,
        ):
            plant_unknown_codes(sev)
            mp.setenv(KEY_ENV, SANDBOX_KEY)
            mp.setenv(SEV_KEY_ENV, SEV_KEY)
            mp.setenv(URL_ENV, url)
            configs = [
                mixed_config(folder / name, where, sandbox.base_url, sev.base_url)
                for name, where in (
                    ("duck", "data/warehouse.duckdb"),
                    ("pg", f"{{engine: postgres, url_env: {URL_ENV}}}"),
                )
            ]
            contacts = len(sev.export("sev")["contacts"])
            for cfg in configs:
                sync_tenant(cfg, "demo", mode="full")
                synced = sync_sevdesk(cfg, "sev", mode="full")
                # a table the sync lost shows here, not later as documents without their contacts
                assert synced.live_rows.get("contacts") == contacts and not synced.not_in_plan, synced
            duck, pg = (build(cfg.warehouse, AS_OF) for cfg in configs)
            yield duck, pg, configs[0].warehouse, url
    finally:
        mp.undo()


def why_blocked(nodes: list[NodeOutcome], url: str) -> list[Any]:
    """The blocking nodes, a few of each failed test's stored rows and the contacts per layer (PostgreSQL):
    enough to tell a missing load from a model's mistake."""
    found: list[Any] = []
    with psycopg2.connect(url) as con, con.cursor() as cur:
        for n in (n for n in nodes if n.blocks):
            found.append((n.name, n.status, n.message))
            if n.relation and n.status == "fail":
                cur.execute(f"SELECT * FROM {n.relation} LIMIT 5")
                found.append(cur.fetchall())
        for table in ("raw_lexware.contacts", "raw_sevdesk.contacts", "cdm.contacts"):
            cur.execute(f"SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id ORDER BY 1")
            found.append((table, cur.fetchall()))
    return found


def test_sevdesk_and_lexware_models_run_on_postgres_as_on_duckdb(mixed):
    duck, pg, _, url = mixed
    assert duck.ok, [(n.name, n.status, n.message) for n in duck.nodes if n.blocks]
    assert pg.ok, why_blocked(pg.nodes, url)
    assert statuses(pg.nodes) == statuses(duck.nodes)
    assert sum(n.is_model and "sevdesk" in n.name for n in pg.nodes) >= 10


def test_sevdesk_cdm_marts_and_quarantine_equal_row_for_row(mixed):
    _, _, warehouse, url = mixed
    sizes = compare(warehouse, url)
    for table in (
        "cdm.invoices",
        "cdm.bills",
        "cdm.credit_notes",
        "cdm.payments",
        "cdm.contacts",
        "marts.ar_aging",
        "quarantine.issues",
    ):
        assert sizes[table] > 0, f"{table} is empty: nothing was compared"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:  # both systems were compared, not just one
        for table in ("cdm.invoices", "cdm.bills", "cdm.payments"):
            systems = con.execute(f"SELECT DISTINCT source_system FROM {table}").fetchall()
            assert {s for (s,) in systems} == {"lexware", "sevdesk"}, table
        rejected = con.execute(
            "SELECT count(*) FROM quarantine.issues WHERE source_system = 'sevdesk' AND severity = 'rejected'"
        ).fetchone()
        assert rejected is not None and rejected[0] >= 3  # the planted dunning letter, template, payment
    finally:
        con.close()
