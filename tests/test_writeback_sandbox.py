"""Write-back against the real sandbox process: versions, conflicts, retries, exactly once, no requests
for invalid rows. Concurrent edits come from the sandbox's operator API ("edit as another user")."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from core.config import load_config
from pipelines.lexware.client import LexwareClient
from pipelines.writeback.executor import CorrectionExecutor, Hooks
from pipelines.writeback.model import Correction
from pipelines.writeback.store import WritebackStore
from sandbox.process import start_sandbox

TENANT = "demo"
KEY_ENV = "KONTOR_WRITEBACK_TEST_KEY"
ROOT = Path(__file__).resolve().parent.parent


def _valid_de_vat_ids():
    """Distinct German VAT ids with a correct check digit (ISO 7064 MOD 11,10)."""
    for base in itertools.count(21000000):
        digits = str(base)
        product = 10
        for ch in digits:
            product = (2 * ((int(ch) + product) % 10 or 10)) % 11
        yield f"DE{digits}{(11 - product) % 10}"


NEW_VATS = _valid_de_vat_ids()


# --- helpers ------------------------------------------------------------------------------------------
def op(sandbox, method: str, path: str, **kw):
    r = httpx.request(method, f"{sandbox.base_url}/_sandbox{path}", timeout=30, **kw)
    r.raise_for_status()
    return r.json()


def export(sandbox) -> dict:
    return op(sandbox, "GET", f"/tenants/{TENANT}/export")


def contact(sandbox, cid: str) -> dict:
    return next(c for c in export(sandbox)["contacts"] if c["id"] == cid)


def edit_as_other_user(sandbox, resource: str, rid: str, changes: dict) -> dict:
    body = {"resource": resource, "id": rid, "changes": changes}
    return op(sandbox, "POST", f"/tenants/{TENANT}/edit", json=body)


def requests_made(sandbox, prefix: str = "") -> int:
    stats = op(sandbox, "GET", "/stats")["tenants"].get(TENANT, {})
    if not prefix:
        return stats.get("requests", 0)
    return sum(n for k, n in stats.get("by_endpoint", {}).items() if k.startswith(prefix))


def _updatable(c: dict) -> bool:
    lists = [
        *(c.get("emailAddresses") or {}).values(),
        *(c.get("phoneNumbers") or {}).values(),
        *(c.get("addresses") or {}).values(),
        (c.get("company") or {}).get("contactPersons") or [],
    ]
    return "company" in c and all(len(x) <= 1 for x in lists)


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(rate_limit=200, burst=50, size="small") as sb:
        yield sb


@pytest.fixture(scope="module")
def fresh_contacts(sandbox):
    """Company contacts the API may update, handed out one per use so tests never share a record."""
    return iter([c["id"] for c in export(sandbox)["contacts"] if _updatable(c)])


@pytest.fixture
def kontor(tmp_path, sandbox, monkeypatch):
    monkeypatch.setenv(KEY_ENV, sandbox.api_key(TENANT))
    path = tmp_path / "kontor.yaml"
    path.write_text(
        textwrap.dedent(f"""
        warehouse: wh.duckdb
        tenants:
          - name: {TENANT}
            base_url: {sandbox.base_url}
            api_key_env: {KEY_ENV}
            rps: 150
    """),
        encoding="utf-8",
    )
    return load_config(path)


@pytest.fixture
def store(kontor):
    return WritebackStore.open(kontor.warehouse)


@pytest.fixture
def client(kontor):
    with LexwareClient(kontor.tenant(TENANT)) as c:
        yield c


def executor(store, client, **kw) -> CorrectionExecutor:
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return CorrectionExecutor(store, lambda _: client, known_tenants={TENANT}, **kw)


def vat_correction(store, sandbox, cid: str, **kw) -> int:
    current = contact(sandbox, cid)["company"].get("vatRegistrationId")
    values = dict(
        tenant=TENANT,
        entity="contact",
        record_id=f"lexware:{TENANT}:{cid}",
        field="vat_id",
        new_value=next(NEW_VATS),
        expected_old_value=current,
    )
    [cid_] = store.insert_corrections([Correction(**{**values, **kw})], source="test")
    return cid_


# --- the tests ---------------------------------------------------------------------------------------
def test_correction_applies_and_the_new_version_is_recorded(sandbox, store, client, fresh_contacts):
    cid = next(fresh_contacts)
    before = contact(sandbox, cid)
    corr_id = vat_correction(store, sandbox, cid)
    report = executor(store, client).run()
    c = store.get(corr_id)
    after = contact(sandbox, cid)
    assert c.status == "applied", c.reason
    assert after["version"] == before["version"] + 1 == c.applied_version
    assert after["company"]["vatRegistrationId"] == c.new_value
    assert after["company"]["name"] == before["company"]["name"]  # full record sent back, nothing lost
    assert report.touched() == {TENANT: {"contacts": {cid: after["version"]}}}
    [put] = [a for a in store.audit_rows(corr_id) if a["action"] == "put"]
    assert (put["http_status"], put["outcome"]) == (200, "applied")
    assert (put["version_before"], put["version_after"]) == (before["version"], after["version"])
    assert "sandbox-demo-key" not in repr(store.audit_rows())


def test_dry_run_shows_the_diff_and_writes_nothing(sandbox, store, client, fresh_contacts):
    cid = next(fresh_contacts)
    before = contact(sandbox, cid)
    corr_id = vat_correction(store, sandbox, cid)
    puts = requests_made(sandbox, "PUT ")
    report = executor(store, client).run(dry_run=True)
    [o] = report.outcomes
    assert o.status == "would_apply"
    assert (o.before, o.after) == (before["company"].get("vatRegistrationId"), store.get(corr_id).new_value)
    assert f"- {o.before!r}" in report.render() and f"+ {o.after!r}" in report.render()
    assert requests_made(sandbox, "PUT ") == puts
    assert contact(sandbox, cid)["version"] == before["version"]
    assert store.get(corr_id).status == "pending"


def test_concurrent_edit_of_another_field_is_kept(sandbox, store, client, fresh_contacts):
    cid = next(fresh_contacts)
    before = contact(sandbox, cid)
    corr_id = vat_correction(store, sandbox, cid)

    def other_user(vc, attempt):
        if attempt == 1:  # between our GET and our PUT
            edit_as_other_user(sandbox, "contacts", cid, {"note": "changed by a colleague"})

    executor(store, client, hooks=Hooks(before_put=other_user)).run()
    c, after = store.get(corr_id), contact(sandbox, cid)
    assert c.status == "applied", c.reason
    assert after["company"]["vatRegistrationId"] == c.new_value  # our change
    assert after["note"] == "changed by a colleague"  # and theirs: no lost update
    assert after["version"] == before["version"] + 2 == c.applied_version
    outcomes = [(a["action"], a["outcome"], a["http_status"]) for a in store.audit_rows(corr_id)]
    assert outcomes[0][:2] == ("put", "version_conflict") and outcomes[0][2] in (406, 409)
    assert outcomes[-1] == ("put", "applied", 200)


def test_concurrent_edit_of_the_same_field_is_a_conflict(sandbox, store, client, fresh_contacts):
    cid = next(fresh_contacts)
    corr_id = vat_correction(store, sandbox, cid)

    def other_user(vc, attempt):
        edit_as_other_user(sandbox, "contacts", cid, {"company": {"vatRegistrationId": "DE999999999"}})

    executor(store, client, hooks=Hooks(before_put=other_user)).run()
    c = store.get(corr_id)
    assert c.status == "conflict"
    assert "DE999999999" in c.reason and "not overwritten" in c.reason
    assert contact(sandbox, cid)["company"]["vatRegistrationId"] == "DE999999999"


def test_a_version_conflict_storm_gives_up_after_the_bound(sandbox, store, client, fresh_contacts):
    cid = next(fresh_contacts)
    before = contact(sandbox, cid)
    corr_id = vat_correction(store, sandbox, cid)
    counter = itertools.count()

    def busy_colleague(vc, attempt):
        edit_as_other_user(sandbox, "contacts", cid, {"note": f"edit {next(counter)}"})

    executor(store, client, max_attempts=3, hooks=Hooks(before_put=busy_colleague)).run()
    c, after = store.get(corr_id), contact(sandbox, cid)
    assert c.status == "gave_up"
    assert "gave up after 3 attempts" in c.reason
    assert after["company"].get("vatRegistrationId") == before["company"].get("vatRegistrationId")
    audit = store.audit_rows(corr_id)
    assert [a["outcome"] for a in audit if a["action"] == "put"] == ["version_conflict"] * 3
    assert audit[-1]["action"] == "give_up"


def test_invalid_corrections_are_rejected_without_any_request(sandbox, store, client):
    rid = f"lexware:{TENANT}:d2b5c3f1-9e44-4a0b-9c2d-6f7a8e1b3c55"
    bad = [
        Correction(TENANT, "contact", rid, "vat_id", "DE123", "x"),
        Correction(TENANT, "contact", rid, "email", "no-at-sign", None),
        Correction(TENANT, "bill", rid, "due_date", "2025-13-01", None),
        Correction(TENANT, "invoice", rid, "due_date", "2025-12-01", None),
        Correction(TENANT, "contact", rid, "customer_number", "4711", None),
        Correction("nobody", "contact", rid, "note", "x", None),
    ]
    ids = store.insert_corrections(bad, source="test")
    before = requests_made(sandbox)
    report = executor(store, client).run()
    assert requests_made(sandbox) == before
    assert client.stats.requests == 0
    assert report.counts() == {"rejected": len(bad)}
    reasons = [store.get(i).reason for i in ids]
    assert all(reasons) and len(set(reasons)) == len(bad)
    assert [a["action"] for a in store.audit_rows() if a["correction_id"] in ids] == ["validate"] * len(bad)


KILLED_RUN = textwrap.dedent("""
    import sys, time, pathlib
    from core.config import load_config
    from pipelines.lexware.client import LexwareClient
    from pipelines.writeback.executor import CorrectionExecutor, Hooks
    from pipelines.writeback.store import WritebackStore
    cfg = load_config(sys.argv[1])
    marker, victim = pathlib.Path(sys.argv[2]), int(sys.argv[3])
    client = LexwareClient(cfg.tenant("demo"))
    def after_put(vc, result):
        if vc.correction.id == victim:  # the PUT landed; die before its result is written
            marker.write_text(str(result["version"]))
            time.sleep(300)
    CorrectionExecutor(WritebackStore.open(cfg.warehouse), lambda _: client, known_tenants={"demo"},
                       hooks=Hooks(after_put=after_put)).run()
""")


def test_killed_between_put_and_result_then_rerun_applies_each_correction_once(
    sandbox, kontor, store, client, fresh_contacts, tmp_path
):
    from assets.extraction import KontorConfigResource
    from assets.writeback import apply_corrections

    cids = [next(fresh_contacts) for _ in range(3)]
    versions = {cid: contact(sandbox, cid)["version"] for cid in cids}
    ids = [vat_correction(store, sandbox, cid) for cid in cids]
    marker = tmp_path / "put-done"
    puts = requests_made(sandbox, "PUT ")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(kontor.path), str(marker), str(ids[1])],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the job never reached the PUT"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert [store.get(i).status for i in ids] == ["applied", "in_flight", "pending"]
    assert contact(sandbox, cids[1])["company"]["vatRegistrationId"] == store.get(ids[1]).new_value

    result = apply_corrections.execute_in_process(
        run_config={"ops": {"apply_pending_corrections": {"config": {"resync": False}}}},
        resources={"kontor": KontorConfigResource(path=str(kontor.path))},
    )
    assert result.success
    final = [store.get(i) for i in ids]
    assert [c.status for c in final] == ["applied"] * 3
    assert "interrupted" in final[1].reason
    assert requests_made(sandbox, "PUT ") - puts == 3  # one PUT per correction, none repeated
    for cid, c in zip(cids, final, strict=True):
        assert contact(sandbox, cid)["version"] == versions[cid] + 1 == c.applied_version


class JobDied(Exception):
    """Stands in for a kill at a hook: the run stops there, nothing after it is recorded."""


def die(*_):
    raise JobDied


def interrupted_correction(store, sandbox, client, cid: str, hook: str) -> tuple[int, str]:
    """A correction left ``in_flight`` by a run that died at ``hook``; returns (id, old value)."""
    old = next(NEW_VATS)
    edit_as_other_user(sandbox, "contacts", cid, {"company": {"vatRegistrationId": old}})
    corr_id = vat_correction(store, sandbox, cid)
    with pytest.raises(JobDied):
        executor(store, client, hooks=Hooks(**{hook: die})).run(ids=[corr_id])
    assert store.get(corr_id).status == "in_flight"
    return corr_id, old


def test_in_flight_write_undone_by_a_colleague_is_a_conflict_not_written_again(
    sandbox, store, client, fresh_contacts
):
    cid = next(fresh_contacts)
    corr_id, old = interrupted_correction(store, sandbox, client, cid, "after_put")
    landed = contact(sandbox, cid)
    assert landed["company"]["vatRegistrationId"] == store.get(corr_id).new_value  # our PUT landed
    edit_as_other_user(sandbox, "contacts", cid, {"company": {"vatRegistrationId": old}})  # and was undone
    puts = requests_made(sandbox, "PUT ")
    executor(store, client).run()
    c = store.get(corr_id)
    assert c.status == "conflict", c.reason
    assert "may have landed" in c.reason and f"-> {landed['version'] + 1}" in c.reason
    assert requests_made(sandbox, "PUT ") == puts  # the colleague's value is not overwritten
    assert contact(sandbox, cid)["company"]["vatRegistrationId"] == old


def test_in_flight_write_that_never_went_out_is_retried(sandbox, store, client, fresh_contacts):
    cid = next(fresh_contacts)
    corr_id, old = interrupted_correction(store, sandbox, client, cid, "before_put")
    version = contact(sandbox, cid)["version"]
    assert contact(sandbox, cid)["company"]["vatRegistrationId"] == old  # died before the PUT
    executor(store, client).run()
    c = store.get(corr_id)
    assert c.status == "applied", c.reason  # the version did not move: safe to write
    assert contact(sandbox, cid)["company"]["vatRegistrationId"] == c.new_value
    assert c.applied_version == version + 1


def trail(store, corr_id: int) -> list[tuple]:
    return [
        (r["action"], r["outcome"], r["version_before"], r["version_after"])
        for r in store.audit_rows(corr_id)
    ]


def test_a_put_that_landed_before_a_kill_is_audited_as_landed_then_confirmed(
    sandbox, store, client, fresh_contacts
):
    cid = next(fresh_contacts)
    corr_id, _ = interrupted_correction(store, sandbox, client, cid, "after_put")
    landed = contact(sandbox, cid)["version"]
    executor(store, client).run(ids=[corr_id])
    c = store.get(corr_id)
    assert c.status == "applied" and c.applied_version == landed and "interrupted" in c.reason
    # the trail accounts for the version our write caused, not only "same version before and after"
    assert trail(store, corr_id)[-2:] == [
        ("put", "landed_unconfirmed", landed - 1, landed),
        ("check", "confirmed", landed, landed),
    ]


class LostAnswer(httpx.HTTPTransport):
    """Sends every request to the sandbox, but replaces the answer to the first PUT by the gateway's 504
    (as Lexware's gateway does when it times out after the write was performed)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "PUT" and not self.lost:
            self.lost += 1
            response.read()
            response.close()
            return httpx.Response(504, json={"message": "Endpoint request timed out"}, request=request)
        return response


def test_a_put_answered_504_but_performed_is_audited_as_landed_then_confirmed(
    sandbox, kontor, store, fresh_contacts
):
    cid = next(fresh_contacts)
    version = contact(sandbox, cid)["version"]
    corr_id = vat_correction(store, sandbox, cid)
    puts = requests_made(sandbox, "PUT ")
    transport = LostAnswer()
    with LexwareClient(kontor.tenant(TENANT), transport=transport) as lossy:
        executor(store, lossy).run(ids=[corr_id])
    c = store.get(corr_id)
    assert transport.lost == 1 and requests_made(sandbox, "PUT ") - puts == 2  # performed, then refused
    assert c.status == "applied", c.reason
    assert c.applied_version == version + 1 == contact(sandbox, cid)["version"]
    rows = trail(store, corr_id)
    assert rows[0][:2] == ("put", "version_conflict")
    assert rows[-2:] == [
        ("put", "landed_unconfirmed", version, version + 1),
        ("check", "confirmed", version + 1, version + 1),
    ]
    assert not any("nothing written" in (r["detail"] or "") for r in store.audit_rows(corr_id))


def _purchase_voucher(number: str, category: str) -> dict:
    return {
        "type": "purchaseinvoice",
        "voucherNumber": number,
        "voucherDate": "2025-09-28",
        "dueDate": "2025-10-12",
        "totalGrossAmount": 119.0,
        "totalTaxAmount": 19.0,
        "taxType": "gross",
        "useCollectiveContact": True,
        "remark": "Kontor write-back test",
        "voucherItems": [{"amount": 119.0, "taxAmount": 19.0, "taxRatePercent": 19, "categoryId": category}],
    }


def test_create_voucher_with_file_never_duplicates_under_faults(tmp_path, monkeypatch):
    from pipelines.writeback.operations import CreateVoucherWithFile, OperationError, default_operation_id

    faults = "500=0.08,503=0.05,504=0.12,malformed=0.08,reset=0.05"
    with start_sandbox(rate_limit=200, burst=50, size="small", faults=faults, fault_seed=11) as sb:
        monkeypatch.setenv(KEY_ENV, sb.api_key(TENANT))
        path = tmp_path / "kontor.yaml"
        path.write_text(
            f"warehouse: wh.duckdb\ntenants:\n  - name: {TENANT}\n    base_url: {sb.base_url}\n"
            f"    api_key_env: {KEY_ENV}\n    rps: 50\n",
            encoding="utf-8",
        )
        cfg = load_config(path)
        store = WritebackStore.open(cfg.warehouse)
        category = next(c["id"] for c in sb.export(TENANT)["posting_categories"] if c["type"] == "outgo")
        numbers = [f"KT-WB-{i:03d}" for i in range(8)]
        errors = 0
        with LexwareClient(cfg.tenant(TENANT)) as client:
            operation = CreateVoucherWithFile(store, client, round_pause=0.01)
            for number in numbers:
                content = b"%PDF-1.4\n% receipt " + number.encode() + b"\n%%EOF\n"
                result = None
                for _ in range(6):  # the caller retries until done; the second call must be a no-op
                    try:
                        result = operation.run(_purchase_voucher(number, category), f"{number}.pdf", content)
                    except OperationError:
                        errors += 1
                        continue
                    if result.status == "completed":
                        again = operation.run(_purchase_voucher(number, category), f"{number}.pdf", content)
                        assert (again.voucher_id, again.file_id) == (result.voucher_id, result.file_id)
                        break
                journal = store.operation(default_operation_id(TENANT, _purchase_voucher(number, category)))
                assert result is not None and result.status == "completed", journal
        seen = sb.tenant_stats(TENANT)["status"]
        vouchers = [v for v in sb.export(TENANT)["vouchers"] if v.get("voucherNumber") in numbers]
    assert sum(n for code, n in seen.items() if code.startswith("5")) > 0  # the faults did happen
    assert sorted(v["voucherNumber"] for v in vouchers) == numbers  # exactly one voucher per number
    assert [len(v["files"]) for v in vouchers] == [1] * len(numbers)  # each with its one receipt
    journal = {
        store.operation(default_operation_id(TENANT, _purchase_voucher(n, category)))["voucher_id"]
        for n in numbers
    }
    assert journal == {v["id"] for v in vouchers}
    print(f"\nfaults seen: {seen}; operation errors surfaced to the caller: {errors}")


def test_two_suppliers_bills_with_the_same_number_are_never_confused(sandbox, store, client):
    from pipelines.writeback.operations import (
        KIND,
        CreateVoucherWithFile,
        OperationError,
        default_operation_id,
        request_digest,
    )

    data = export(sandbox)
    category = next(c["id"] for c in data["posting_categories"] if c["type"] == "outgo")
    a, b, c, d = [x["id"] for x in data["contacts"] if "vendor" in (x.get("roles") or {})][:4]
    number = "L-88231"  # suppliers pick their numbers: the same one on four bills, same date and total

    def bill(supplier: str) -> dict:
        voucher = {**_purchase_voucher(number, category), "contactId": supplier}
        del voucher["useCollectiveContact"]
        return voucher

    def receipt(supplier: str) -> bytes:
        return f"%PDF-1.4\n% receipt of {supplier}\n%%EOF\n".encode()

    def interrupted_in_creating(supplier: str) -> None:
        """The journal as a process leaves it when it dies after recording `creating`."""
        op_id = default_operation_id(TENANT, bill(supplier))
        store.start_operation(op_id, TENANT, KIND, number, request_digest(bill(supplier), receipt(supplier)))
        store.update_operation(op_id, status="creating")

    theirs = client.post("/v1/vouchers", json=bill(a))["id"]  # supplier A's bill, entered by someone else
    operation = CreateVoucherWithFile(store, client, round_pause=0.01)
    # first attempt: A's voucher is not ours and does not block ours
    first = operation.run(bill(b), "b.pdf", receipt(b))
    # creating, and the lost POST had landed: adopt that voucher, not A's or B's
    landed = client.post("/v1/vouchers", json=bill(c))["id"]
    interrupted_in_creating(c)
    adopted = operation.run(bill(c), "c.pdf", receipt(c))
    # creating, and the POST never went out: none of the others is ours, so create it
    interrupted_in_creating(d)
    created = operation.run(bill(d), "d.pdf", receipt(d))
    # the same bill of A again, first attempt: that one is ours, a duplicate, refused
    posts = requests_made(sandbox, "POST /v1/vouchers")
    with pytest.raises(OperationError, match="already exists"):
        operation.run(bill(a), "a.pdf", receipt(a))
    assert requests_made(sandbox, "POST /v1/vouchers") == posts

    assert [r.status for r in (first, adopted, created)] == ["completed"] * 3
    assert adopted.voucher_id == landed and adopted.resumed and created.resumed
    vouchers = {v["id"]: v for v in export(sandbox)["vouchers"] if v.get("voucherNumber") == number}
    mine = {b: first.voucher_id, c: adopted.voucher_id, d: created.voucher_id}
    assert set(vouchers) == {theirs, *mine.values()}  # four bills, no duplicate
    assert vouchers[theirs]["files"] == []  # no receipt ever attached to another supplier's bill
    for supplier, vid in mine.items():
        assert vouchers[vid]["contactId"] == supplier and len(vouchers[vid]["files"]) == 1
    lookups = [
        r["detail"]
        for r in store.audit_rows(operation_id=default_operation_id(TENANT, bill(d)))
        if r["action"] == "lookup"
    ]
    assert lookups and theirs in lookups[0] and "not ours" in lookups[0]


def test_job_only_writes_then_the_normal_sync_and_build_show_the_new_state(sandbox, kontor, store):
    """apply_corrections writes to Lexware and nothing else; sensor sync_after_writeback then requests the
    normal sync of the touched tenant, after which the model build (what the automation runs after any
    sync) shows the new state."""
    import duckdb
    from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context, materialize

    from assets.extraction import KontorConfigResource, lexware_raw
    from assets.writeback import TOUCHED_TAG, apply_corrections, sync_after_writeback
    from pipelines.lexware.sync import sync_tenant
    from tests.dbt_warehouse import build_at

    sync_tenant(kontor, TENANT, mode="full")
    assert build_at(kontor.warehouse).ok
    with duckdb.connect(str(kontor.warehouse)) as con:
        bill_id, remote_id, due, version = con.execute(
            "SELECT id, remote_id, due_date::VARCHAR, remote_version FROM cdm.bills "
            "WHERE due_date IS NOT NULL AND status = 'open' ORDER BY id LIMIT 1"
        ).fetchone()
    fix = Correction(TENANT, "bill", bill_id, "due_date", "2031-01-31", due)
    store.insert_corrections([fix], source="test")
    resources = {"kontor": KontorConfigResource(path=str(kontor.path))}
    instance = DagsterInstance.ephemeral()
    plan = apply_corrections.execute_in_process(
        run_config={"ops": {"apply_pending_corrections": {"config": {"dry_run": True}}}},
        resources=resources,
        instance=instance,
    )
    assert plan.success and store.open_corrections()[0].status == "pending"
    assert TOUCHED_TAG not in instance.get_run_by_id(plan.run_id).tags  # a plan touches nothing
    result = apply_corrections.execute_in_process(resources=resources, instance=instance)
    assert result.success
    voucher = next(v for v in sandbox.export(TENANT)["vouchers"] if v["id"] == remote_id)
    assert voucher["dueDate"].startswith("2031-01-31") and voucher["version"] == version + 1
    with duckdb.connect(str(kontor.warehouse), read_only=True) as con:  # the job wrote to the source only
        before = con.execute("SELECT due_date::VARCHAR FROM cdm.bills WHERE id = ?", [bill_id]).fetchone()
        assert before == (due,)
        assert con.execute("SELECT status, applied_version FROM writeback.corrections").fetchone() == (
            "applied",
            version + 1,
        )

    run = instance.get_run_by_id(result.run_id)
    [success] = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.RUN_SUCCESS).records
    context = build_run_status_sensor_context(
        sensor_name=sync_after_writeback.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=success.event_log_entry.dagster_event,
    )
    [request] = sync_after_writeback(context)
    assert request.partition_key == TENANT
    synced = materialize([lexware_raw], partition_key=TENANT, resources=resources, instance=instance)
    assert synced.success
    assert build_at(kontor.warehouse).ok  # what the model automation starts once raw changed
    with duckdb.connect(str(kontor.warehouse), read_only=True) as con:
        row = con.execute(
            "SELECT due_date::VARCHAR, remote_version FROM cdm.bills WHERE id = ?", [bill_id]
        ).fetchone()
    assert row == ("2031-01-31", version + 1)


def test_sensor_starts_one_run_per_set_of_open_corrections(sandbox, kontor, fresh_contacts):
    from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

    from assets.definitions import defs
    from assets.extraction import KontorConfigResource
    from assets.writeback import apply_corrections as job
    from assets.writeback import pending_corrections_sensor as sensor

    assert sensor in defs.sensors and sensor.job is job
    resources = {"kontor": KontorConfigResource(path=str(kontor.path))}
    instance = DagsterInstance.ephemeral()

    def tick():
        return sensor(build_sensor_context(instance=instance, resources=resources))

    assert isinstance(tick(), SkipReason) and not kontor.warehouse.exists()  # no warehouse yet
    store = WritebackStore.open(kontor.warehouse)
    assert tick().skip_message == "no pending corrections"
    cid = next(fresh_contacts)
    corr_id = vat_correction(store, sandbox, cid)
    request = tick()
    assert isinstance(request, RunRequest) and request.run_key.startswith("corrections-")
    assert tick().run_key == request.run_key  # same pending rows, same key: Dagster starts one run
    active = instance.create_run_for_job(job_def=job)  # e.g. launched by hand a moment ago
    assert tick().skip_message.startswith("an apply_corrections run is active")
    instance.delete_run(active.run_id)
    run = job.execute_in_process(
        instance=instance, run_config=request.run_config, tags=request.tags, resources=resources
    )
    assert run.success and store.get(corr_id).status == "applied"
    assert contact(sandbox, cid)["company"]["vatRegistrationId"] == store.get(corr_id).new_value
    assert tick().skip_message == "no pending corrections"
    later = vat_correction(store, sandbox, next(fresh_contacts))
    first_key = tick().run_key
    assert first_key not in (None, request.run_key)
    store.set_status(later, "gave_up", "version conflicts kept coming", attempts=3)
    assert tick().skip_message == "no pending corrections"
    with store.connect() as con:  # the analyst puts it back (README, "Correcting data")
        con.execute("UPDATE writeback.corrections SET status = 'pending' WHERE id = ?", [later])
    assert tick().run_key not in (None, first_key)  # a new run for the retried row
