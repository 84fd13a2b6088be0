"""dbt tests as asset checks: all pass on the clean fixture, each one fails on data broken for it, and a
real Dagster run reports materialisations with metadata and failing checks. One build path: a failing
error-severity test stops the models downstream of it and keeps the analysts' last snapshot; a warning
is reported and does not block."""

import shutil

import duckdb
import pytest

from assets.resources import WarehouseResource
from core.warehouse import snapshot_path
from pipelines.writeback.store import warehouse_path
from tests import raw_fixtures as fx
from tests.dbt_warehouse import AS_OF, fixture_warehouse, manifest, materialize_at, run_tests_at

ACME = "lexware:acme:"

# One way to break the data for every singular test in transforms/tests (SQL run on the built warehouse).
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


def dbt_tests() -> dict[str, dict]:
    return {n["name"]: n for n in manifest()["nodes"].values() if n["resource_type"] == "test"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    path = tmp_path_factory.mktemp("clean") / "w.duckdb"
    result = fixture_warehouse(path, fx.load_small_fixture)
    assert result.ok and result.published
    return path, result


def copy_of(clean, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copyfile(clean[0], path)
    return path


def test_every_singular_test_has_a_breaker_and_every_grain_is_tested():
    tests = dbt_tests()
    singular = {name for name, t in tests.items() if not t.get("test_metadata")}
    assert singular - {"nothing_rejected"} == set(BREAKERS)
    assert tests["nothing_rejected"]["config"]["severity"] == "warn"
    grains = {
        n["name"]
        for n in manifest()["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["meta"].get("grain")
    }
    tested = {
        t["attached_node"].split(".")[-1]
        for t in tests.values()
        if t.get("test_metadata", {}).get("name") == "unique_key"
    }
    assert grains == tested and len(grains) >= 30


def test_all_checks_pass_on_the_clean_fixture(clean):
    statuses = {n.name: n.status for n in clean[1].nodes if not n.is_model}
    assert set(statuses) == set(dbt_tests())  # the build ran every test
    assert statuses.pop("nothing_rejected") == "warn"  # the fixture has 2 rejected rows
    assert set(statuses.values()) == {"pass"}


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_check_fails_on_broken_data(clean, tmp_path, name):
    path = copy_of(clean, tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute(BREAKERS[name])
    [outcome] = run_tests_at(path, name)
    assert outcome.status == "fail" and outcome.failures >= 1, outcome
    with duckdb.connect(str(path), read_only=True) as con:  # the failing rows stay readable
        assert con.execute(f"SELECT count(*) FROM test_failures.{name}").fetchone()[0] >= 1


def test_key_check_fails_on_duplicate_and_null_keys(clean, tmp_path):
    path = copy_of(clean, tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO cdm.invoices SELECT * FROM cdm.invoices WHERE document_number = 'RE-7'")
    [outcome] = run_tests_at(path, "unique_key_invoices_id")
    assert (outcome.status, outcome.failures) == ("fail", 1)
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM cdm.invoices WHERE document_number = 'RE-7'")
        con.execute("UPDATE cdm.invoices SET id = NULL WHERE document_number = 'RE-2025-0142'")
    [outcome] = run_tests_at(path, "unique_key_invoices_id")
    assert outcome.status == "fail"
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT problem FROM test_failures.unique_key_invoices_id").fetchall() == [
            ("null key column",)
        ]


def check_results(result) -> dict[str, bool]:
    return {
        f"{'/'.join(e.asset_key.path)}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()
    }


def test_dagster_run_materialises_every_model_with_metadata(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        fx.load_small_fixture(con)
    result = materialize_at(path)
    assert result.success
    events = result.get_asset_materialization_events()
    mats = {"/".join(e.asset_key.path): e.materialization.metadata for e in events}
    models = [n for n in manifest()["nodes"].values() if n["resource_type"] == "model"]
    assert set(mats) == {f"{m['config']['schema']}/{m['name']}" for m in models}
    assert mats["cdm/invoices"]["dagster/row_count"].value == 10
    columns = mats["cdm/invoices"]["dagster/column_schema"].schema.columns
    assert [c.name for c in columns[:4]] == ["id", "tenant_id", "source_system", "remote_id"]
    assert all(c.description for c in columns)  # the meaning from the dbt YAML
    assert mats["staging/stg_lexware__sales_vouchers"]["quarantined_rejected"].value == 2
    assert mats["staging/stg_lexware__sales_vouchers"]["quarantined_flagged"].value == 1
    assert mats["quarantine/issues"]["issues_by_reason"].value == {
        "flagged: unknown enum value": 1,
        "rejected: malformed date": 1,
        "rejected: missing required field": 1,
    }
    checks = check_results(result)
    assert len(checks) == len(dbt_tests())
    assert checks.pop("quarantine/issues:nothing_rejected") is False  # the fixture has 2 rejected rows (WARN)
    assert all(checks.values()), [k for k, ok in checks.items() if not ok]
    assert snapshot_path(path).exists()  # a warning does not block publishing
    # a model built as a view (stg_lexware__document_lines) reads in the snapshot, a byte copy opened under
    # another database name, with the rows it has in the warehouse
    view = "staging.stg_lexware__document_lines"
    with duckdb.connect(str(path), read_only=True) as con:
        lines = con.execute(f"SELECT count(*) FROM {view}").fetchall()
    with duckdb.connect(str(snapshot_path(path)), read_only=True) as con:
        kinds = "SELECT table_type FROM information_schema.tables WHERE table_name = ?"
        assert con.execute(kinds, [view.split(".")[1]]).fetchall() == [("VIEW",)]
        assert con.execute(f"SELECT count(*) FROM {view}").fetchall() == lines != [(0,)]


def test_dagster_checks_fail_on_broken_raw_data(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    fx.load_small_fixture(con)
    # An invoice names a contact that was never synced.
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
    result = materialize_at(path)
    assert not result.success  # an error-severity check failed: the run fails and nothing is published
    checks = check_results(result)
    assert checks["cdm/contacts:documents_reference_contacts"] is False
    assert checks["cdm/invoice_lines:lines_reference_documents"] is True
    assert not snapshot_path(path).exists()
    # The list says RE-6 totals 1000 more than its detail: the staging check fails, with a sample of the
    # offending rows, and the models after it (and their checks) do not run.
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE raw_lexware.voucherlist SET raw = json_merge_patch(raw, '{\"totalAmount\": 2190.0}') "
            "WHERE id = ?",
            [fx.I6],
        )
    result = materialize_at(path)
    checks = check_results(result)
    assert checks["staging/stg_lexware__voucherlist:voucherlist_matches_details"] is False
    assert "cdm/contacts:documents_reference_contacts" not in checks
    evaluation = next(
        e for e in result.get_asset_check_evaluations() if e.check_name == "voucherlist_matches_details"
    )
    sample = evaluation.metadata["sample"].value
    assert sample[0]["remote_id"] == fx.I6 and sample[0]["list_total"] == "2190.00"


def test_a_failing_error_test_stops_its_downstream_models_and_keeps_the_snapshot(clean, tmp_path):
    path = copy_of(clean, tmp_path)
    shutil.copyfile(snapshot_path(clean[0]), snapshot_path(path))
    published = snapshot_path(path).stat().st_mtime_ns
    with duckdb.connect(str(path)) as con:  # a contact twice in raw (its grain test fails) and a rename
        con.execute(
            "INSERT INTO raw_lexware.contacts SELECT * FROM raw_lexware.contacts WHERE id = ?", [fx.C2]
        )
        con.execute(
            "UPDATE raw_lexware.contacts SET raw = json_merge_patch(raw, "
            '\'{"company": {"name": "Umbenannt GmbH"}}\') WHERE id = ?',
            [fx.C1],
        )
    result = materialize_at(path)
    assert not result.success
    checks = check_results(result)
    grain = "staging/stg_lexware__contacts:unique_key_stg_lexware__contacts_tenant_id__remote_id"
    assert checks[grain] is False
    built = {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert "staging/stg_lexware__contacts" in built  # the model built; its test then failed ...
    assert not built & {"cdm/contacts", "marts/ar_aging", "marts/customer_balances"}  # ... downstream stopped
    assert "cdm/invoices" in built  # models that do not read the contacts still build
    assert snapshot_path(path).stat().st_mtime_ns == published  # analysts keep the last complete build
    for db in (path, snapshot_path(path)):
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT name FROM cdm.contacts WHERE id = ?", [ACME + fx.C1]).fetchone() == (
                "Elbufer Logistik KG",
            )


def test_dagster_run_builds_into_the_warehouse_named_in_kontor_yaml(tmp_path, monkeypatch):
    # one source of truth: the resource's default is kontor.yaml's `warehouse:`, an explicit path wins
    from dagster import materialize

    from assets.transforms import dbt_resource, kontor_models

    configured = tmp_path / "elsewhere" / "w.duckdb"
    configured.parent.mkdir()
    (tmp_path / "kontor.yaml").write_text(
        "warehouse: elsewhere/w.duckdb\ntenants:\n  - name: acme\n    base_url: http://127.0.0.1:1\n"
        "    api_key_env: KONTOR_TEST_ACME_KEY\n"
    )
    monkeypatch.setenv("KONTOR_CONFIG", str(tmp_path / "kontor.yaml"))
    monkeypatch.setenv("KONTOR_WAREHOUSE", str(tmp_path / "stray.duckdb"))  # not read: the resource decides
    con = duckdb.connect(str(configured))
    fx.load_small_fixture(con)
    con.close()
    assert WarehouseResource().file == warehouse_path() == configured.resolve()  # Dagster, write-back
    assert WarehouseResource(path=str(tmp_path / "x.duckdb")).file == tmp_path / "x.duckdb"
    result = materialize(
        [kontor_models],
        resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
        run_config={"ops": {"kontor_models": {"config": {"as_of": AS_OF.isoformat()}}}},
    )
    assert result.success and not (tmp_path / "stray.duckdb").exists()
    with duckdb.connect(str(configured), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cdm.invoices").fetchone()[0] == 10


def test_snapshot_only_after_a_complete_build_and_the_warehouse_takes_corrections(clean, tmp_path):
    path = copy_of(clean, tmp_path)
    assert materialize_at(path).success
    snapshot = snapshot_path(path)
    published = snapshot.stat().st_mtime_ns
    with duckdb.connect(str(path)) as con:  # the README's step 2 works on a freshly built warehouse
        con.execute(
            "INSERT INTO writeback.corrections (tenant, entity, record_id, field, new_value, "
            "expected_old_value) VALUES ('acme', 'contact', 'lexware:acme:x', 'vat_id', 'DE1', NULL)"
        )
        con.execute("CREATE OR REPLACE TABLE raw_lexware.contacts AS SELECT 1 AS x")  # breaks its staging
    result = materialize_at(path)
    assert not result.success
    assert snapshot.stat().st_mtime_ns == published  # analysts keep the last complete build
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cdm.contacts").fetchone()[0] > 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM writeback.corrections").fetchone()[0] == 1
