"""sevDesk write-back against the real sevDesk sandbox process and a warehouse synced by the sevDesk
source: compare-before-write (no version in sevDesk), drafts only, enshrined records refused without a
write, conflicts, interrupted and failed writes re-read before anything else, and audit rows that name
the weaker guarantee. Concurrent edits come from the sandbox's operator API ("another user")."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import duckdb
import pytest

from bench.sandbox_sync import write_config
from pipelines.sevdesk.client import SevdeskClient
from pipelines.sevdesk.sync import sync_tenant
from pipelines.writeback.clients import TenantClients
from pipelines.writeback.executor import CorrectionExecutor, Hooks
from pipelines.writeback.inputs import import_corrections_file
from pipelines.writeback.model import Correction
from pipelines.writeback.resync import resync_touched
from pipelines.writeback.sevdesk import update_seconds
from pipelines.writeback.store import SCHEMA_SQL, WritebackStore
from sandbox.process import start_sandbox

TENANT = "demo"
KEYS = {"demo": "sev-wb-demo-key", "other": "sev-wb-other-key"}
ENVS = {"demo": "KONTOR_TEST_SEVWB_DEMO_KEY", "other": "KONTOR_TEST_SEVWB_OTHER_KEY"}
SIZE = {"contacts": 40, "invoices": 10, "vouchers": 80, "credit_notes": 2}
WRITES = ("PUT /api/v1/Contact/{id}", "POST /api/v1/Voucher/Factory/saveVoucher")


def _valid_de_vat_ids():
    for base in itertools.count(31000000):
        digits, product = str(base), 10
        for ch in digits:
            product = (2 * ((int(ch) + product) % 10 or 10)) % 11
        yield f"DE{digits}{(11 - product) % 10}"


NEW_VATS = _valid_de_vat_ids()
NEW_DAYS = (f"2026-0{m}-{d:02d}" for m in range(1, 10) for d in range(1, 29))


def _drafts_made(sb) -> None:
    """Open, unlocked vouchers become drafts (the seed has few), so every test gets its own."""
    for v in sb.export(TENANT)["vouchers"]:
        if v["status"] == "100" and not v["enshrined"]:
            sb.edit(TENANT, "Voucher", v["id"], {"status": "50"})


def _sandbox(**options):
    with start_sandbox(system="sevdesk", tenants=KEYS, **SIZE, **options) as sb:
        _drafts_made(sb)
        yield sb


@pytest.fixture(scope="module")
def sb():
    yield from _sandbox()


@pytest.fixture(scope="module")
def pools(sb):
    """Records handed out one per use so tests never share one."""
    e = sb.export(TENANT)
    return {
        "organisations": iter([c["id"] for c in e["contacts"] if c["name"]]),
        "drafts": iter([v["id"] for v in e["vouchers"] if v["status"] == "50" and not v["enshrined"]]),
        "open": iter([v["id"] for v in e["vouchers"] if v["status"] != "50" and not v["enshrined"]]),
        "enshrined": iter([v["id"] for v in e["vouchers"] if v["enshrined"]]),
    }


def _warehouse(tmp_path, sandbox, monkeypatch):
    for tenant, env in ENVS.items():
        monkeypatch.setenv(env, KEYS[tenant])
    cfg = write_config(tmp_path, sandbox.base_url, ENVS, system="sevdesk")
    sync_tenant(cfg, TENANT, mode="full")  # corrections refer to records the sevDesk source synced
    return cfg


@pytest.fixture
def cfg(sb, tmp_path, monkeypatch):
    return _warehouse(tmp_path, sb, monkeypatch)


@pytest.fixture
def store(cfg):
    return WritebackStore.open(cfg.warehouse)


@pytest.fixture
def client(cfg):
    with SevdeskClient(cfg.tenant(TENANT)) as c:
        yield c


def executor(store, client, **kw) -> CorrectionExecutor:
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return CorrectionExecutor(
        store, lambda _: client, known_tenants=set(KEYS), systems=dict.fromkeys(KEYS, "sevdesk"), **kw
    )


def record(sb, model: str, rid: str) -> dict:
    table = {"Contact": "contacts", "Voucher": "vouchers"}[model]
    return next(r for r in sb.export(TENANT)[table] if r["id"] == rid)


def positions(sb, vid: str) -> list[tuple]:
    return sorted(
        (p["id"], p["sumNet"], p["sumGross"], p["taxRate"], p["comment"], str(p.get("accountingType")))
        for p in sb.export(TENANT)["voucher_positions"]
        if p["voucher"]["id"] == vid
    )


def writes(sb) -> int:
    by = sb.tenant_stats(TENANT).get("by_endpoint", {})
    return sum(by.get(w, 0) for w in WRITES)


def add(store, sb, model: str, rid: str, field: str, new, **kw) -> int:
    key = {
        ("Contact", "vat_id"): "vatNumber",
        ("Voucher", "due_date"): "paymentDeadline",
        ("Voucher", "document_number"): "description",
    }[(model, field)]
    old = record(sb, model, rid)[key]
    values = dict(
        tenant=TENANT,
        entity=model.lower(),
        record_id=f"sevdesk:{TENANT}:{rid}",
        field=field,
        new_value=new,
        expected_old_value=old[:10] if field.endswith("date") and old else old,
    )
    [cid] = store.insert_corrections([Correction(**{**values, **kw})], source="test")
    return cid


def tick(sb, seconds: int = 2) -> None:
    """Move the sandbox clock on, so the next edit has a later `update` (sevDesk counts in seconds)."""
    sb.clock(sb.clock() + timedelta(seconds=seconds))


# --- applied -----------------------------------------------------------------------------------------
def test_contact_correction_is_written_confirmed_and_audited_as_compare_before_write(
    sb, cfg, store, client, pools
):
    cid = next(pools["organisations"])
    before = record(sb, "Contact", cid)
    corr = add(store, sb, "Contact", cid, "vat_id", next(NEW_VATS))
    report = executor(store, client).run()
    c, after = store.get(corr), record(sb, "Contact", cid)
    assert c.status == "applied", c.reason
    assert after["vatNumber"] == c.new_value
    assert after["name"] == before["name"] and after["customerNumber"] == before["customerNumber"]
    assert c.applied_version == update_seconds(after) > update_seconds(before)
    assert report.touched() == {TENANT: {"Contact": {cid: c.applied_version}}}
    rows = store.audit_rows(corr)
    assert [(r["action"], r["outcome"]) for r in rows] == [("put", "written"), ("confirm", "confirmed")]
    assert {r["guarantee"] for r in rows} == {"compare_before_write"}
    assert all("compare-before-write" in r["detail"] for r in rows)
    assert rows[0]["resource"] == f"/Contact/{cid}"
    [resynced] = resync_touched(cfg, report.touched())  # what the job does next: the raw layer follows
    assert resynced.tenant == TENANT and resynced.rows.get("contacts", 0) >= 1
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        raw = con.execute("SELECT raw FROM raw_sevdesk.contacts WHERE id = ?", [cid]).fetchone()[0]
    finally:
        con.close()
    assert json.loads(raw)["vatNumber"] == c.new_value


def test_draft_voucher_update_resends_every_position(sb, store, client, pools):
    vid = next(pools["drafts"])
    before, pos_before = record(sb, "Voucher", vid), positions(sb, vid)
    sent_at = {
        p["id"]: update_seconds(p)
        for p in sb.export(TENANT)["voucher_positions"]
        if p["voucher"]["id"] == vid
    }
    assert len(pos_before) >= 1
    corr = add(store, sb, "Voucher", vid, "due_date", next(NEW_DAYS))
    sb.reset_stats()
    executor(store, client).run()
    c, after = store.get(corr), record(sb, "Voucher", vid)
    assert c.status == "applied", c.reason
    assert after["paymentDeadline"][:10] == c.new_value
    assert positions(sb, vid) == pos_before  # same positions, same sums: none lost, none doubled
    resent = [p for p in sb.export(TENANT)["voucher_positions"] if p["voucher"]["id"] == vid]
    assert all(update_seconds(p) > sent_at[p["id"]] for p in resent)  # every one was resent with the save
    assert (after["sumNet"], after["sumGross"]) == (before["sumNet"], before["sumGross"])
    assert after["status"] == "50" and after["description"] == before["description"]
    assert sb.tenant_stats(TENANT)["by_endpoint"]["POST /api/v1/Voucher/Factory/saveVoucher"] == 1


def test_dry_run_plans_and_writes_nothing(sb, store, client, pools):
    vid = next(pools["drafts"])
    corr = add(store, sb, "Voucher", vid, "document_number", "ER-KORR-1")
    sb.reset_stats()
    report = executor(store, client).run(dry_run=True)
    [o] = report.outcomes
    assert (o.status, o.before, o.after) == (
        "would_apply",
        record(sb, "Voucher", vid)["description"],
        "ER-KORR-1",
    )
    assert writes(sb) == 0 and store.get(corr).status == "pending"


# --- rejected / conflict ------------------------------------------------------------------------------
def test_non_draft_and_enshrined_vouchers_are_rejected_without_a_write(sb, store, client, pools):
    open_id, locked_id = next(pools["open"]), next(pools["enshrined"])
    open_corr = add(store, sb, "Voucher", open_id, "document_number", "ER-KORR-2")
    locked_corr = add(store, sb, "Voucher", locked_id, "due_date", next(NEW_DAYS))
    sb.reset_stats()
    executor(store, client).run()
    o, lk = store.get(open_corr), store.get(locked_corr)
    assert o.status == "rejected" and "not a draft" in o.reason
    assert lk.status == "rejected" and "enshrined" in lk.reason
    assert writes(sb) == 0
    assert record(sb, "Voucher", open_id)["description"] != "ER-KORR-2"


def test_invalid_and_foreign_records_are_rejected_without_any_request(sb, store, client, cfg):
    other = sb.export("other")["contacts"][0]["id"]
    sync_tenant(cfg, "other", mode="full")
    bad = [
        Correction(TENANT, "contact", "lexware:demo:abc", "vat_id", "DE123"),
        Correction(TENANT, "contact", "12a", "name", "X"),
        Correction(TENANT, "contact", "1", "email", "a@b.de"),
        Correction(TENANT, "invoice", "1", "due_date", "2026-01-01"),
        Correction(TENANT, "contact", other, "name", "Stolen GmbH", "x"),
    ]
    ids = store.insert_corrections(bad, source="test")
    sb.reset_stats()
    executor(store, client).run()
    reasons = [store.get(i).reason for i in ids]
    assert [store.get(i).status for i in ids] == ["rejected"] * 5
    assert "sevdesk:<tenant>:<id>" in reasons[0] and "not a sevDesk id" in reasons[1]
    assert "CommunicationWay" in reasons[2] and "invoices" in reasons[3] and "tenant 'other'" in reasons[4]
    assert sb.tenant_stats(TENANT).get("requests", 0) == 0


def test_same_field_changed_since_the_analyst_looked_is_a_conflict(sb, store, client, pools):
    cid = next(pools["organisations"])
    corr = add(store, sb, "Contact", cid, "vat_id", next(NEW_VATS))
    theirs = next(NEW_VATS)
    sb.edit(TENANT, "Contact", cid, {"vatNumber": theirs})
    sb.reset_stats()
    executor(store, client).run()
    c = store.get(corr)
    assert c.status == "conflict" and theirs in c.reason
    assert record(sb, "Contact", cid)["vatNumber"] == theirs and writes(sb) == 0


def test_change_between_judging_and_writing_is_caught_by_the_compare(sb, store, client, pools):
    same, other_field = next(pools["organisations"]), next(pools["organisations"])
    c_same = add(store, sb, "Contact", same, "vat_id", next(NEW_VATS))
    c_other = add(store, sb, "Contact", other_field, "vat_id", next(NEW_VATS))
    theirs = next(NEW_VATS)

    def meanwhile(vc, attempt):
        if attempt == 1 and vc.remote_id == same:
            sb.edit(TENANT, "Contact", same, {"vatNumber": theirs})
        elif attempt == 1:
            sb.edit(TENANT, "Contact", other_field, {"description": "edited by a colleague"})

    sb.reset_stats()
    executor(store, client, hooks=Hooks(before_put=meanwhile)).run()
    s, o = store.get(c_same), store.get(c_other)
    assert s.status == "conflict" and record(sb, "Contact", same)["vatNumber"] == theirs
    assert o.status == "applied" and o.attempts == 2
    kept = record(sb, "Contact", other_field)
    assert kept["vatNumber"] == o.new_value and kept["description"] == "edited by a colleague"
    for corr in (c_same, c_other):
        assert ("compare", "changed_meanwhile") in [
            (r["action"], r["outcome"]) for r in store.audit_rows(corr)
        ]
    assert sb.tenant_stats(TENANT)["by_endpoint"]["PUT /api/v1/Contact/{id}"] == 1  # only the other-field one


def test_a_record_changing_before_every_write_gives_up_after_the_bound(sb, store, client, pools):
    """A colleague saves the contact (another field) right before each of our writes: the compare sees
    `update` move every time, nothing is written, and past the bound the correction gives up, the
    colleague's edits kept. The same storm as Lexware's version conflicts, caught by the compare."""
    cid = next(pools["organisations"])
    corr = add(store, sb, "Contact", cid, "vat_id", next(NEW_VATS))
    old_vat = record(sb, "Contact", cid)["vatNumber"]
    saved: list[int] = []

    def colleague_saves(vc, attempt):
        tick(sb)  # a later second: sevDesk's `update` moves only with the clock
        sb.edit(TENANT, "Contact", cid, {"description": f"Anruf {attempt}"})
        saved.append(attempt)

    sb.reset_stats()
    executor(store, client, max_attempts=3, hooks=Hooks(before_put=colleague_saves)).run()
    c, now = store.get(corr), record(sb, "Contact", cid)
    assert c.status == "gave_up" and c.attempts == 3 and "gave up after 3 attempts" in c.reason
    assert saved == [1, 2, 3] and writes(sb) == 0
    assert now["vatNumber"] == old_vat and now["description"] == "Anruf 3"
    audit = [(r["action"], r["outcome"]) for r in store.audit_rows(corr)]
    assert audit.count(("compare", "changed_meanwhile")) == 3
    assert {r["guarantee"] for r in store.audit_rows(corr)} == {"compare_before_write"}


def test_voucher_leaving_draft_before_the_write_is_rejected_not_written(sb, store, client, pools):
    vid = next(pools["drafts"])
    corr = add(store, sb, "Voucher", vid, "due_date", next(NEW_DAYS))
    sb.reset_stats()
    hook = Hooks(before_put=lambda vc, attempt: sb.edit(TENANT, "Voucher", vid, {"status": "100"}))
    executor(store, client, hooks=hook).run()
    c = store.get(corr)
    assert c.status == "rejected" and "not a draft" in c.reason and writes(sb) == 0


# --- interrupted and failed writes ---------------------------------------------------------------------
class Killed(BaseException):
    """The job dies right after its write went out (before it recorded the result)."""


def _killed_after_write(_vc, _result):
    raise Killed


def test_interrupted_write_is_confirmed_on_rerun_without_writing_again(sb, store, client, pools):
    cid = next(pools["organisations"])
    corr = add(store, sb, "Contact", cid, "vat_id", next(NEW_VATS))
    with pytest.raises(Killed):
        executor(store, client, hooks=Hooks(after_put=_killed_after_write)).run()
    assert store.get(corr).status == "in_flight"
    sb.reset_stats()
    executor(store, client).run()
    c = store.get(corr)
    assert c.status == "applied" and "interrupted write landed" in c.reason
    assert writes(sb) == 0 and record(sb, "Contact", cid)["vatNumber"] == c.new_value


def test_interrupted_write_undone_by_a_colleague_is_a_conflict_not_written_again(sb, store, client, pools):
    cid = next(pools["organisations"])
    old = record(sb, "Contact", cid)["vatNumber"]
    corr = add(store, sb, "Contact", cid, "vat_id", next(NEW_VATS))
    with pytest.raises(Killed):
        executor(store, client, hooks=Hooks(after_put=_killed_after_write)).run()
    tick(sb)
    sb.edit(TENANT, "Contact", cid, {"vatNumber": old})  # sets the old value back
    sb.reset_stats()
    executor(store, client).run()
    c = store.get(corr)
    assert c.status == "conflict" and "may have landed and been undone" in c.reason
    assert writes(sb) == 0 and record(sb, "Contact", cid)["vatNumber"] == old


@pytest.fixture(scope="module")
def flaky():
    """A second sandbox (same books) whose answers often fail: 504 after performing the request, or
    503 before. No sync runs against it, so the request sequence - and so which requests the seeded
    faults hit - is the same every run."""
    yield from _sandbox(faults="504=0.15,503=0.15", fault_seed=3)


def test_failed_writes_are_reread_and_end_applied_exactly_once(flaky, tmp_path, monkeypatch):
    for tenant, env in ENVS.items():
        monkeypatch.setenv(env, KEYS[tenant])
    cfg = write_config(tmp_path, flaky.base_url, ENVS, system="sevdesk")
    store = WritebackStore.open(cfg.warehouse)
    e = flaky.export(TENANT)
    contacts = [c["id"] for c in e["contacts"] if c["name"]][:6]
    drafts = [v["id"] for v in e["vouchers"] if v["status"] == "50" and not v["enshrined"]][:10]
    before = {v: (positions(flaky, v), record(flaky, "Voucher", v)["sumGross"]) for v in drafts}
    ids = [add(store, flaky, "Contact", c, "vat_id", next(NEW_VATS)) for c in contacts]
    ids += [add(store, flaky, "Voucher", v, "due_date", next(NEW_DAYS)) for v in drafts]
    with TenantClients(cfg) as clients:  # the production wiring: a SevdeskClient for a sevdesk tenant
        for _ in range(3):  # an unconfirmed write is finished by the next run
            CorrectionExecutor(
                store,
                clients,
                known_tenants=set(KEYS),
                systems=clients.systems,
                backoff_initial=0.01,
                backoff_max=0.05,
            ).run()
    final = [store.get(i) for i in ids]
    assert [c.status for c in final] == ["applied"] * len(ids), [(c.status, c.reason) for c in final]
    for c, cid in zip(final, contacts, strict=False):
        assert record(flaky, "Contact", cid)["vatNumber"] == c.new_value
    for v in drafts:  # resent positions: never doubled or lost, whatever the answers were
        assert (positions(flaky, v), record(flaky, "Voucher", v)["sumGross"]) == before[v]
    rows = [r for i in ids for r in store.audit_rows(i)]
    errors = [r for r in rows if r["outcome"] == "error"]
    for err in errors:  # every failed write is followed by a re-read of that record, before anything else
        nxt = min(
            (r for r in rows if r["correction_id"] == err["correction_id"] and r["id"] > err["id"]),
            key=lambda r: r["id"],
        )
        assert nxt["action"] in ("reread", "get"), nxt
    verdicts = {r["outcome"] for r in rows if r["action"] == "reread"}
    assert verdicts == {"landed", "not_landed"}  # both kinds of failure were met (seeded faults)
    landed = [c for c in final if "answered with an error" in (c.reason or "")]
    assert landed and all(c.applied_version for c in landed)


# --- migration ---------------------------------------------------------------------------------------
def test_an_existing_warehouse_gains_the_guarantee_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    old_schema = SCHEMA_SQL.replace(
        "ALTER TABLE writeback.audit ADD COLUMN IF NOT EXISTS guarantee VARCHAR;", ""
    )
    con = duckdb.connect(str(path))
    con.execute(old_schema)
    con.execute(
        "INSERT INTO writeback.audit (tenant, resource, action, outcome, started_at, finished_at) "
        "VALUES ('demo', '/v1/contacts/x', 'put', 'applied', now(), now())"
    )
    assert "guarantee" not in [d[0] for d in con.execute("SELECT * FROM writeback.audit").description]
    con.close()
    store = WritebackStore.open(path)
    [row] = store.audit_rows()
    assert row["guarantee"] is None and row["outcome"] == "applied"
    WritebackStore.open(path)  # idempotent


def test_lexware_audit_rows_name_the_version_checked_guarantee(tmp_path):
    """The same executor, a Lexware tenant: its rows say `version_checked` (no request needed here)."""
    store = WritebackStore.open(tmp_path / "wh.duckdb")
    [corr] = store.insert_corrections([Correction("acme", "contact", "not-a-uuid", "vat_id", "DE1")], "test")

    def no_client(_tenant):
        raise AssertionError("an invalid correction must not need a client")

    CorrectionExecutor(store, no_client, known_tenants={"acme"}, systems={"acme": "lexware"}).run()
    assert store.get(corr).status == "rejected"
    assert [r["guarantee"] for r in store.audit_rows(corr)] == ["version_checked"]


def test_a_corrections_file_is_validated_by_each_tenants_system(tmp_path):
    store = WritebackStore.open(tmp_path / "wh.duckdb")
    path = tmp_path / "fixes.csv"
    path.write_text(
        "tenant,entity,record_id,field,new_value,expected_old_value\n"
        "demo,contact,sevdesk:demo:590000003,vat_id,DE136695976,\n"
        "demo,contact,d2b5c3f1-9e44-4a0b-9c2d-6f7a8e1b3c55,vat_id,DE136695976,\n"
        "acme,contact,d2b5c3f1-9e44-4a0b-9c2d-6f7a8e1b3c55,vat_id,DE136695976,\n",
        encoding="utf-8",
    )
    ids = import_corrections_file(
        store, path, {"demo", "acme"}, systems={"demo": "sevdesk", "acme": "lexware"}
    )
    sev_ok, sev_uuid, lexware_ok = (store.get(i) for i in ids)
    assert (sev_ok.status, lexware_ok.status) == ("pending", "pending")
    assert sev_uuid.status == "rejected" and "not a sevDesk id" in sev_uuid.reason


def test_job_writes_to_sevdesk_then_requests_the_sevdesk_sync_of_the_tenant(sb, cfg, store, pools):
    """The Dagster job with a sevDesk tenant: applied, then sensor sync_sevdesk_after_writeback (not the
    Lexware one) requests the sevDesk sync of the touched tenant."""
    from dagster import DagsterEventType, DagsterInstance, SkipReason, build_run_status_sensor_context

    from assets.extraction import KontorConfigResource
    from assets.writeback import (
        TOUCHED_SEVDESK_TAG,
        apply_corrections,
        sync_after_writeback,
        sync_sevdesk_after_writeback,
    )

    cid = next(pools["organisations"])
    corr = add(store, sb, "Contact", cid, "vat_id", next(NEW_VATS))
    instance = DagsterInstance.ephemeral()
    result = apply_corrections.execute_in_process(
        resources={"kontor": KontorConfigResource(path=str(cfg.path))}, instance=instance
    )
    assert result.success and store.get(corr).status == "applied"
    assert record(sb, "Contact", cid)["vatNumber"] == store.get(corr).new_value
    run = instance.get_run_by_id(result.run_id)
    assert run.tags[TOUCHED_SEVDESK_TAG] == TENANT
    [success] = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.RUN_SUCCESS).records

    def context(sensor):
        return build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=success.event_log_entry.dagster_event,
        )

    [request] = sync_sevdesk_after_writeback(context(sync_sevdesk_after_writeback))
    assert request.partition_key == TENANT
    assert isinstance(sync_after_writeback(context(sync_after_writeback)), SkipReason)
