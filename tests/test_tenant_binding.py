"""Tenant binding: a key answering for another Lexware organisation never mixes two tenants' books.

The sandbox gives every tenant its own organisation (its own organizationId); `gamma` is not in
kontor.yaml and stands for an organisation a tenant deliberately moves to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench.sandbox_sync import write_config
from pipelines.lexware.errors import TenantBindingError
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, rows

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"acme": "acme-key", "beta": "beta-key", "gamma": "gamma-key"}
ENVS = {"acme": "KT_BIND_ACME", "beta": "KT_BIND_BETA"}
SMALLER = {"contacts": 30, "invoices": 40, "vouchers": 20, "credit_notes": 5}


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(tenants=KEYS, rate_limit=1000, **SMALLER) as sb:
        yield sb


@pytest.fixture
def cfg(tmp_path, sb, monkeypatch):
    for name, env in ENVS.items():
        monkeypatch.setenv(env, KEYS[name])
    return write_config(tmp_path, sb.base_url, ENVS)


def org(sb, tenant: str) -> str:
    return sb.export(tenant)["organizationId"]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_a_key_of_another_organisation_stops_the_tenant_before_any_data_request(sb, cfg):
    sync_tenant(cfg, "acme")
    sync_tenant(cfg, "beta")
    before = {t: rows(cfg, t, "beta") for t in ("invoices", "contacts", "payments", "profile")}
    sb.reset_stats()
    proc = cli(
        "pipelines.cli",
        "sync",
        "--config",
        str(cfg.path),
        "--tenant",
        "beta",
        env={ENVS["beta"]: KEYS["acme"]},
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [result] = [json.loads(line) for line in proc.stdout.splitlines()]
    error = result["error"]
    assert result["ok"] is False and error.startswith("tenant 'beta': ")
    assert org(sb, "acme") in error and org(sb, "beta") in error and ENVS["beta"] in error
    assert "rebind --tenant beta" in error and KEYS["acme"] not in proc.stdout + proc.stderr
    # one request, the profile: no list, no detail of acme's books was read
    assert sb.tenant_stats("acme")["requests"] == 1 and sb.tenant_stats("beta")["requests"] == 0
    assert {t: rows(cfg, t, "beta") for t in before} == before
    assert_matches_export(cfg, sb.export("acme"), "acme")


def test_a_first_sync_with_a_key_bound_to_another_tenant_loads_nothing(sb, cfg, monkeypatch):
    sync_tenant(cfg, "acme")
    monkeypatch.setenv(ENVS["beta"], KEYS["acme"])
    with pytest.raises(TenantBindingError, match=r"tenant 'beta': .*already bound to tenant 'acme'"):
        sync_tenant(cfg, "beta")
    assert rows(cfg, "invoices", "beta") == {} and rows(cfg, "profile", "beta") == {}


def test_an_organisation_pinned_in_kontor_yaml_is_enforced_from_the_first_run(sb, cfg, monkeypatch):
    text = cfg.path.read_text().replace(
        f"    api_key_env: {ENVS['beta']}\n",
        f"    api_key_env: {ENVS['beta']}\n    organization_id: {org(sb, 'beta')}\n",
    )
    cfg.path.write_text(text)
    monkeypatch.setenv(ENVS["beta"], KEYS["gamma"])
    proc = cli("pipelines.cli", "sync", "--config", str(cfg.path), "--tenant", "beta")
    error = json.loads(proc.stdout)["error"]
    assert proc.returncode == 1 and "pinned as organization_id in kontor.yaml" in error
    assert org(sb, "gamma") in error and org(sb, "beta") in error
    assert not cfg.warehouse.exists() or rows_or_none(cfg) is None


def rows_or_none(cfg):
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM raw_lexware.invoices").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()


def test_a_warehouse_from_before_the_binding_is_checked_against_its_profile_rows(sb, cfg, monkeypatch):
    sync_tenant(cfg, "beta")
    con = duckdb.connect(str(cfg.warehouse))
    con.execute("DROP TABLE kontor.tenant_bindings")  # as a warehouse loaded before bindings existed
    con.close()
    monkeypatch.setenv(ENVS["beta"], KEYS["gamma"])
    with pytest.raises(TenantBindingError, match=r"its rows in raw_lexware\.profile"):
        sync_tenant(cfg, "beta")


def test_rebind_with_purge_moves_a_tenant_to_another_organisation_deliberately(sb, cfg, monkeypatch):
    sync_tenant(cfg, "beta")
    monkeypatch.setenv(ENVS["beta"], KEYS["gamma"])  # beta now lives in another Lexware organisation
    with pytest.raises(TenantBindingError):
        sync_tenant(cfg, "beta")
    keep = cli("pipelines.cli", "rebind", "--config", str(cfg.path), "--tenant", "beta")
    assert keep.returncode == 2 and "add --purge" in keep.stderr and org(sb, "beta") in keep.stderr
    purge = cli("pipelines.cli", "rebind", "--config", str(cfg.path), "--tenant", "beta", "--purge")
    assert purge.returncode == 0, purge.stderr
    done = json.loads(purge.stdout.splitlines()[-1])
    assert done["organization_id"] == org(sb, "gamma") and done["previous_organization_id"] == org(sb, "beta")
    assert done["purged_rows"]["invoices"] == len(sb.export("beta")["invoices"])
    result = sync_tenant(cfg, "beta")  # reads the new organisation from scratch: nothing of the old stays
    assert result.rows["contacts"] == len(sb.export("gamma")["contacts"])
    assert_matches_export(cfg, sb.export("gamma"), "beta")


def test_write_back_refuses_a_tenant_whose_key_answers_for_another_organisation(sb, cfg, monkeypatch):
    from pipelines.writeback.model import Correction
    from pipelines.writeback.store import WritebackStore

    sync_tenant(cfg, "beta")
    contact = next(c for c in sb.export("beta")["contacts"] if "company" in c)
    store = WritebackStore.open(cfg.warehouse)
    [cid] = store.insert_corrections(
        [
            Correction(
                tenant="beta",
                entity="contact",
                record_id=contact["id"],
                field="note",
                new_value="geprüft",
                expected_old_value=contact.get("note"),
            )
        ],
        source="test",
    )
    sb.reset_stats()
    proc = cli("pipelines.writeback", "--config", str(cfg.path), "apply", env={ENVS["beta"]: KEYS["acme"]})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert org(sb, "acme") in proc.stderr and org(sb, "beta") in proc.stderr
    assert sb.tenant_stats("acme")["requests"] == 1  # the profile only: acme's records are not touched
    correction = store.get(cid)
    assert correction.status == "pending" and org(sb, "acme") in correction.reason  # waits for the fix
    assert [r["action"] for r in store.audit_rows(cid)] == ["bind"]


def test_a_record_id_of_another_tenant_is_named_as_such_not_as_deleted(sb, cfg):
    from pipelines.writeback.clients import TenantClients
    from pipelines.writeback.executor import CorrectionExecutor
    from pipelines.writeback.model import Correction
    from pipelines.writeback.store import WritebackStore

    sync_tenant(cfg, "acme")
    sync_tenant(cfg, "beta")
    acme_contact = next(c for c in sb.export("acme")["contacts"] if "company" in c)
    store = WritebackStore.open(cfg.warehouse)
    ids = store.insert_corrections(
        [
            Correction("beta", "contact", acme_contact["id"], "note", "geprüft", acme_contact.get("note")),
            Correction("beta", "contact", "0b5e3c1a-1111-4a0b-9c2d-6f7a8e1b3c55", "note", "geprüft", None),
        ],
        source="test",
    )
    sb.reset_stats()
    with TenantClients(cfg) as clients:
        CorrectionExecutor(store, clients, known_tenants={"acme", "beta"}).run()
    other, unknown = (store.get(i) for i in ids)
    assert other.status == "rejected"
    assert other.reason.startswith(
        f"record {acme_contact['id']} is a contact of tenant 'acme', not of 'beta'"
    )
    assert unknown.status == "failed" and "404" in unknown.reason and "check record_id" in unknown.reason
    assert "no longer exists" not in unknown.reason
    assert sb.tenant_stats("acme")["requests"] == 0  # nothing was asked of acme's organisation


def test_a_dagster_sync_with_the_wrong_organisation_fails_with_the_binding_error(sb, tmp_path, monkeypatch):
    from dagster import materialize

    from assets.extraction import CONFIG_AT_LOAD, KontorConfigResource, lexware_raw

    partition = CONFIG_AT_LOAD.tenants[0].name  # the partitions come from the repo's kontor.yaml
    monkeypatch.setenv("KT_BIND_DAGSTER", KEYS["gamma"])
    path = tmp_path / "kontor.yaml"
    path.write_text(
        f"warehouse: wh.duckdb\ntenants:\n  - name: {partition}\n    base_url: {sb.base_url}\n"
        f"    api_key_env: KT_BIND_DAGSTER\n    rps: 400\n"
        f"    organization_id: {org(sb, 'beta')}\n"
    )
    sb.reset_stats()
    result = materialize(
        [lexware_raw],
        partition_key=partition,
        raise_on_error=False,
        resources={"kontor": KontorConfigResource(path=str(path))},
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith(f"tenant '{partition}': ")
    assert org(sb, "gamma") in description and org(sb, "beta") in description
    assert sb.tenant_stats("gamma")["requests"] == 1  # the profile only
    assert not result.get_asset_materialization_events()
