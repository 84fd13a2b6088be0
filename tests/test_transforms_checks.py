"""Asset checks: all pass on the clean fixture, each one fails on data broken for it, and a real Dagster
run reports materialisations with metadata and failing checks."""

import datetime as dt

import duckdb
import pytest
from dagster import materialize

from assets.checks import transform_checks
from assets.resources import WarehouseResource
from assets.transforms import sql_transforms
from pipelines.writeback.store import warehouse_path
from tests import raw_fixtures as fx
from transforms.graph import discover, discover_checks
from transforms.runner import build, grain_violations, run_check

AS_OF = dt.date(2025, 12, 31)
ACME = "lexware:acme:"

# One way to break the data for every check in transforms/checks (SQL run on the built warehouse).
BREAKERS = {
    "lines_reference_documents": f"DELETE FROM cdm.invoices WHERE id = '{ACME}{fx.I2}'",
    "documents_reference_contacts": f"DELETE FROM cdm.contacts WHERE id = '{ACME}{fx.C2}'",
    "credit_notes_reference_invoices": f"DELETE FROM cdm.invoices WHERE id = '{ACME}{fx.I3}'",
    "payments_reference_documents": f"DELETE FROM cdm.bills WHERE id = '{ACME}{fx.V2}'",
    "document_totals_match_lines": f"UPDATE cdm.invoice_lines SET line_amount = line_amount + 0.02 "
    f"WHERE invoice_id = '{ACME}{fx.I2}'",
    "voucherlist_matches_details": f"UPDATE staging.stg_lexware__voucherlist SET status = 'paid' "
    f"WHERE remote_id = '{fx.I6}'",
    "open_amounts_within_total": f"UPDATE cdm.bills SET open_amount = -0.01 WHERE id = '{ACME}{fx.V1}'",
    "no_tenant_leaks": f"UPDATE cdm.invoices SET contact_id = 'lexware:beta:{fx.C1}' "
    f"WHERE id = '{ACME}{fx.I7}'",
}


def fresh_warehouse(path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    fx.load_small_fixture(con)
    assert all(r.status == "ok" for r in build(con, as_of=AS_OF))
    return con


def test_every_check_has_a_breaker():
    assert set(discover_checks()) == set(BREAKERS)


def test_all_checks_pass_on_the_clean_fixture(tmp_path):
    con = fresh_warehouse(tmp_path / "w.duckdb")
    assert {name: run_check(con, c)[0] for name, c in discover_checks().items()} == dict.fromkeys(BREAKERS, 0)
    assert {m.key: grain_violations(con, m) for m in discover().values() if m.grain} == {
        m.key: (0, 0) for m in discover().values() if m.grain
    }


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_check_fails_on_broken_data(tmp_path, name):
    con = fresh_warehouse(tmp_path / "w.duckdb")
    check = discover_checks()[name]
    con.execute(BREAKERS[name])
    count, sample = run_check(con, check)
    assert count >= 1, name
    assert sample


def test_key_check_fails_on_duplicate_and_null_keys(tmp_path):
    con = fresh_warehouse(tmp_path / "w.duckdb")
    model = discover()["cdm.invoices"]
    con.execute("INSERT INTO cdm.invoices SELECT * FROM cdm.invoices LIMIT 1")
    assert grain_violations(con, model) == (1, 0)
    con.execute("UPDATE cdm.invoices SET id = NULL WHERE document_number = 'RE-7'")
    assert grain_violations(con, model)[1] == 1


def run_dagster(path):
    return materialize(
        [sql_transforms, *transform_checks],
        resources={"warehouse": WarehouseResource(path=str(path))},
        run_config={"ops": {"sql_transforms": {"config": {"as_of": AS_OF.isoformat()}}}},
        raise_on_error=False,
    )


def check_results(result) -> dict[str, bool]:
    return {
        f"{'/'.join(e.asset_key.path)}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()
    }


def test_dagster_run_materialises_every_model_with_metadata(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    fx.load_small_fixture(con)
    con.close()
    result = run_dagster(path)
    assert result.success
    events = result.get_asset_materialization_events()
    mats = {"/".join(e.asset_key.path): e.materialization.metadata for e in events}
    assert set(mats) == {f"{m.schema}/{m.name}" for m in discover().values()}
    assert mats["cdm/invoices"]["dagster/row_count"].value == 10
    columns = [c.name for c in mats["cdm/invoices"]["dagster/column_schema"].schema.columns]
    assert columns[:4] == ["id", "tenant_id", "source_system", "remote_id"]
    assert mats["staging/stg_lexware__sales_vouchers"]["quarantined_rejected"].value == 2
    assert mats["staging/stg_lexware__sales_vouchers"]["quarantined_flagged"].value == 1
    assert mats["quarantine/issues"]["issues_by_reason"].value == {
        "flagged: unknown enum value": 1,
        "rejected: malformed date": 1,
        "rejected: missing required field": 1,
    }
    checks = check_results(result)
    assert len(checks) == len(transform_checks)
    assert checks.pop("quarantine/issues:nothing_rejected") is False  # the fixture has 2 rejected rows (WARN)
    assert all(checks.values()), [k for k, ok in checks.items() if not ok]


def test_dagster_checks_fail_on_broken_raw_data(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    fx.load_small_fixture(con)
    # The list says RE-6 totals 1000 more than its detail; an invoice names a contact that was never synced.
    con.execute(
        "UPDATE raw_lexware.voucherlist SET raw = json_merge_patch(raw, '{\"totalAmount\": 2190.0}') "
        "WHERE id = ?",
        [fx.I6],
    )
    orphan = fx.invoice(
        "99999999-0000-4000-8000-000000000001",
        "open",
        "2025-12-01",
        "2025-12-15",
        "99999999-0000-4000-8000-00000000c0c0",
        [fx.line("x", 1, 10.0, 19, 10.0)],
        10.0,
        1.9,
        "RE-99",
    )
    fx.insert_raw(con, "invoices", "acme", [orphan])
    con.close()
    result = run_dagster(path)
    checks = check_results(result)
    assert checks["staging/stg_lexware__voucherlist:voucherlist_matches_details"] is False
    assert checks["cdm/contacts:documents_reference_contacts"] is False
    assert checks["cdm/invoice_lines:lines_reference_documents"] is True
    evaluation = next(
        e for e in result.get_asset_check_evaluations() if e.check_name == "voucherlist_matches_details"
    )
    sample = evaluation.metadata["sample"].value
    assert sample[0]["remote_id"] == fx.I6 and sample[0]["list_total"] == "2190.00"


def test_dagster_run_builds_into_the_warehouse_named_in_kontor_yaml(tmp_path, monkeypatch):
    # one source of truth: the resource's default is kontor.yaml's `warehouse:`, an explicit path wins
    configured = tmp_path / "elsewhere" / "w.duckdb"
    configured.parent.mkdir()
    (tmp_path / "kontor.yaml").write_text(
        "warehouse: elsewhere/w.duckdb\ntenants:\n  - name: acme\n    base_url: http://127.0.0.1:1\n"
        "    api_key_env: KONTOR_TEST_ACME_KEY\n")
    monkeypatch.setenv("KONTOR_CONFIG", str(tmp_path / "kontor.yaml"))
    monkeypatch.setenv("KONTOR_WAREHOUSE", str(tmp_path / "stray.duckdb"))  # no longer read
    con = duckdb.connect(str(configured))
    fx.load_small_fixture(con)
    con.close()
    assert WarehouseResource().file == warehouse_path() == configured.resolve()  # Dagster, write-back
    assert WarehouseResource(path=str(tmp_path / "x.duckdb")).file == tmp_path / "x.duckdb"
    result = materialize([sql_transforms], resources={"warehouse": WarehouseResource()},
                         run_config={"ops": {"sql_transforms": {"config": {"as_of": AS_OF.isoformat()}}}})
    assert result.success and not (tmp_path / "stray.duckdb").exists()
    with duckdb.connect(str(configured), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cdm.invoices").fetchone()[0] == 10


def test_snapshot_only_after_a_complete_build_and_the_warehouse_takes_corrections(tmp_path):
    from pipelines.warehouse import snapshot_path

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        fx.load_small_fixture(con)
    assert run_dagster(path).success
    snapshot = snapshot_path(path)
    published = snapshot.stat().st_mtime_ns
    with duckdb.connect(str(path)) as con:  # the README's step 2 works on a freshly built warehouse
        con.execute("INSERT INTO writeback.corrections (tenant, entity, record_id, field, new_value, "
                    "expected_old_value) VALUES ('acme', 'contact', 'lexware:acme:x', 'vat_id', 'DE1', NULL)")
        con.execute("CREATE OR REPLACE TABLE raw_lexware.contacts AS SELECT 1 AS x")  # breaks its staging
    result = run_dagster(path)
    assert not result.success
    assert snapshot.stat().st_mtime_ns == published  # analysts keep the last complete build
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cdm.contacts").fetchone()[0] > 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM writeback.corrections").fetchone()[0] == 1
