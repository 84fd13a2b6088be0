"""The sevDesk emulator over real HTTP, with the request shapes of public clients named in the
reference (jernoxit/sevdesk-rs, lukasroegner/sevdesk-exchange-sync, the supabase sync): token auth,
envelope, scalars, paging, filters, embed, errors (also inside HTTP 200), drafts-only writes, enshrine,
the rate limit switch and --state."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from sandbox.process import start_sandbox

KEY = "sandbox-demo-key"


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(system="sevdesk", tenants={"demo": KEY}, invoices=450) as sandbox:
        yield sandbox


@pytest.fixture
def api(sb):
    sb.reset()
    with httpx.Client(base_url=f"{sb.base_url}/api/v1", headers={"Authorization": KEY}, timeout=30) as client:
        yield client


def objects(resp: httpx.Response, status: int = 200):
    assert resp.status_code == status, resp.text
    return resp.json()["objects"]


def test_token_auth_is_the_raw_header_or_the_legacy_query(sb, api):
    assert objects(api.get("/Contact", params={"limit": 1}))
    bearer = httpx.get(f"{sb.base_url}/api/v1/Contact", headers={"Authorization": f"Bearer {KEY}"})
    assert bearer.status_code == 401
    assert bearer.json() == {"error": {**bearer.json()["error"], "responseCode": 401}, "objects": None}
    assert httpx.get(f"{sb.base_url}/api/v1/Contact", params={"token": KEY}).status_code == 200


def test_envelope_and_scalars_as_live(api):
    listed = objects(api.get("/Invoice", params={"invoiceType": "SR"}))
    assert listed and all(isinstance(i["id"], str) for i in listed)
    sr = listed[0]
    assert sr["origin"]["objectName"] == "Invoice" and sr["sumGross"].startswith("-")
    one = objects(api.get(f"/Invoice/{sr['origin']['id']}"))
    assert isinstance(one, list) and len(one) == 1  # an array of one
    original = one[0]
    assert "origin" not in original  # null references are omitted
    assert original["status"] == "1000" and original["paidAmount"] == 0  # cancelled: 1000, nothing paid
    assert isinstance(original["sumNet"], str) and original["showNet"] in ("0", "1")
    partial = objects(api.get("/Invoice", params={"status": "750", "limit": 1}))[0]
    assert isinstance(partial["paidAmount"], int | float) and partial["paidAmount"] > 0
    missing = api.get("/Voucher/1")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 151 and missing.json()["objects"] is None
    assert "No Model_Voucher with the id 1" in missing.json()["error"]["message"]


def test_both_tax_schemes_and_locks_in_one_history(api):
    invoices = objects(api.get("/Invoice", params={"limit": 1000}))
    legacy = [i for i in invoices if i["taxType"] == "default"]
    modern = [i for i in invoices if i.get("taxRule") and i["taxType"] is None]
    assert legacy and modern and all("taxRule" not in i for i in legacy)
    assert all(
        i["invoiceNumber"] is None and i["enshrined"] is None for i in invoices if i["status"] == "100"
    )
    assert any(i["enshrined"] for i in invoices)
    positions = objects(api.get("/VoucherPos", params={"limit": 1000}))
    assert any("accountingType" in p and "accountDatev" not in p for p in positions)
    assert any("accountDatev" in p for p in positions)
    vouchers = objects(api.get("/Voucher", params={"limit": 1000}))
    assert {v["creditDebit"] for v in vouchers} == {"C", "D"} and {"50", "100", "750", "1000"} <= {
        v["status"] for v in vouchers
    }


def test_paging_default_cap_offset_and_count(api):
    assert len(objects(api.get("/InvoicePos"))) == 100  # default page size
    body = api.get("/InvoicePos", params={"limit": 5000, "countAll": "true"}).json()
    total = int(body["total"])
    assert isinstance(body["total"], str) and total > 1000 and len(body["objects"]) == 1000  # capped
    rest = objects(api.get("/InvoicePos", params={"limit": 1000, "offset": 1000}))
    assert len(rest) == total - 1000
    assert {p["id"] for p in body["objects"]}.isdisjoint(p["id"] for p in rest)
    assert objects(api.get("/InvoicePos", params={"limit": 10, "offset": total})) == []
    assert "total" not in api.get("/InvoicePos", params={"limit": 1}).json()


def test_filters_unix_seconds_only_and_unknown_ones_ignored(api):
    every = objects(api.get("/Invoice", params={"limit": 1000}))
    newest = sorted(every, key=lambda i: i["update"])[-5]
    since = int(datetime.fromisoformat(newest["update"]).timestamp())
    recent = objects(api.get("/Invoice", params={"updateAfter": since, "limit": 1000}))
    expected = {i["id"] for i in every if datetime.fromisoformat(i["update"]).timestamp() >= since}
    assert {i["id"] for i in recent} == expected and 0 < len(expected) < len(every)
    assert objects(api.get("/Invoice", params={"updateAfter": "2025-01-01"})) == []  # ISO: nothing
    assert len(objects(api.get("/Invoice", params={"limit": 1000, "noSuchFilter": "x"}))) == len(every)
    assert len(objects(api.get("/CreditNote", params={"updateAfter": since}))) == len(
        objects(api.get("/CreditNote"))
    )  # no update filter on credit notes: ignored
    organisations = objects(api.get("/Contact", params={"limit": 1000}))
    everyone = objects(api.get("/Contact", params={"limit": 1000, "depth": 1}))
    assert all(c["name"] for c in organisations) and len(everyone) > len(organisations)
    inv = every[0]
    pos = objects(api.get("/InvoicePos", params={"invoice[id]": inv["id"], "invoice[objectName]": "Invoice"}))
    assert pos and all(p["invoice"]["id"] == inv["id"] for p in pos)
    half = objects(api.get("/InvoicePos", params={"invoice[id]": inv["id"], "limit": 1000}))
    assert len(half) == 1000  # one half of a reference filter is not a filter


def test_embed_expands_references_and_ignores_unknown_names(api):
    inv = objects(
        api.get(
            "/Invoice", params={"limit": 1, "status": "1000", "embed": "contact,addressCountry,voucherPos"}
        )
    )[0]
    assert inv["contact"]["objectName"] == "Contact" and "create" in inv["contact"]
    assert inv["addressCountry"]["code"] in ("de", "at", "ch", "nl", "fr", "pl")
    pos = objects(api.get(f"/Invoice/{inv['id']}/getPositions", params={"embed": "unity"}))
    assert pos[0]["unity"]["translationCode"].startswith("UNITY_")


def test_contact_writes_json_and_form_encoded(api):
    created = objects(
        api.post(
            "/Contact",
            json={
                "name": "Kontor Test GmbH",
                "category": {"id": 3, "objectName": "Category"},
                "status": 1000,
            },
        ),
        201,
    )
    assert created["category"] == {"id": "3", "objectName": "Category"} and created["status"] == "1000"
    assert api.post("/Contact", json={"name": "ohne Kategorie"}).status_code == 400
    form = "vatNumber=DE123456789&category[id]=2&category[objectName]=Category"
    updated = objects(
        api.put(
            f"/Contact/{created['id']}",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    )
    assert updated["vatNumber"] == "DE123456789" and updated["category"]["id"] == "2"
    assert updated["name"] == "Kontor Test GmbH" and updated["update"] >= created["update"]
    assert objects(api.delete(f"/Contact/{created['id']}")) == [None]


def test_save_voucher_edits_only_drafts_and_enshrine_is_forever(api):
    body = {
        "voucher": {
            "objectName": "Voucher",
            "mapAll": True,
            "voucherDate": "15.05.2026",
            "supplierName": "Bürobedarf Nord KG",
            "description": "ER-2026-0042",
            "status": 50,
            "creditDebit": "C",
            "voucherType": "VOU",
            "taxRule": {"id": 9, "objectName": "TaxRule"},
            "currency": "EUR",
        },
        "voucherPosSave": [
            {
                "objectName": "VoucherPos",
                "mapAll": True,
                "accountDatev": {"id": 5012, "objectName": "AccountDatev"},
                "taxRate": "19.00",
                "net": True,
                "sumNet": "100.00",
                "comment": "Druckerpapier",
            }
        ],
        "voucherPosDelete": None,
    }
    saved = objects(api.post("/Voucher/Factory/saveVoucher", json=body), 201)
    voucher, pos = saved["voucher"], saved["voucherPos"][0]
    assert (
        voucher["status"] == "50"
        and voucher["sumGross"] == "119"
        and voucher["voucherDate"].startswith("2026-05-15T00:00:00+02:00")
    )
    body["voucher"] = {**body["voucher"], "id": int(voucher["id"]), "status": 100}
    body["voucherPosSave"] = [{**body["voucherPosSave"][0], "id": int(pos["id"]), "sumNet": "200"}]
    reopened = objects(api.post("/Voucher/Factory/saveVoucher", json=body), 201)["voucher"]
    assert reopened["status"] == "100" and reopened["sumGross"] == "238"
    refused = api.post("/Voucher/Factory/saveVoucher", json=body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 90400
    gone = api.delete(f"/Voucher/{voucher['id']}")
    assert gone.status_code == 409 and gone.json()["error"]["code"] == 159
    assert objects(api.put(f"/Voucher/{voucher['id']}/enshrine")) is None
    locked = api.put(f"/Voucher/{voucher['id']}/resetToDraft")
    assert locked.status_code == 422 and "enshrined" in locked.json()["error"]["message"]
    assert objects(api.get(f"/Voucher/{voucher['id']}"))[0]["enshrined"]


def test_cancelling_a_partly_paid_invoice_is_an_error_inside_http_200(api):
    partial = objects(api.get("/Invoice", params={"status": "750", "limit": 1}))[0]
    resp = api.post(f"/Invoice/{partial['id']}/cancelInvoice")
    assert resp.status_code == 200 and resp.json()["objects"] is None
    assert resp.json()["error"]["code"] == 390
    open_one = objects(api.get("/Invoice", params={"status": "200", "invoiceType": "RE", "limit": 1}))[0]
    sr = objects(api.post(f"/Invoice/{open_one['id']}/cancelInvoice"), 201)
    assert sr["invoiceType"] == "SR" and sr["origin"]["id"] == open_one["id"]
    again = api.post(f"/Invoice/{open_one['id']}/cancelInvoice")
    assert again.status_code == 422 and again.json()["error"]["code"] == 421


def test_booked_transactions_stay_and_deleted_ones_stay_readable(sb, api):
    txs = objects(api.get("/CheckAccountTransaction", params={"limit": 1000}))
    booked = next(t for t in txs if t["status"] == "400")
    assert api.delete(f"/CheckAccountTransaction/{booked['id']}").status_code == 409
    loose = next(t for t in txs if t["status"] == "100")
    assert objects(api.delete(f"/CheckAccountTransaction/{loose['id']}")) == [None]
    assert loose["id"] not in {
        t["id"] for t in objects(api.get("/CheckAccountTransaction", params={"limit": 1000}))
    }
    assert objects(api.get(f"/CheckAccountTransaction/{loose['id']}"))[0]["deletedAt"]
    assert loose["id"] not in {t["id"] for t in sb.export("demo")["check_account_transactions"]}


def test_operator_pay_links_a_transaction_and_bumps_update(sb, api):
    inv = objects(api.get("/Invoice", params={"status": "200", "limit": 1}))[0]
    paid = sb.edit("demo", "Invoice", inv["id"], action="pay")
    assert paid["status"] == "1000" and paid["update"] > inv["update"]
    logs = objects(api.get(f"/Invoice/{inv['id']}/getCheckAccountTransactionLogs"))
    assert len(logs) == 1 and logs[0]["amountPaid"] == paid["paidAmount"]
    tx = objects(api.get(f"/CheckAccountTransaction/{logs[0]['checkAccountTransaction']['id']}"))[0]
    assert tx["status"] == "400" and tx["amount"] == inv["sumGross"]


def test_no_rate_limit_by_default_but_switchable():
    small = {"contacts": 5, "invoices": 5, "vouchers": 5, "credit_notes": 1}
    with (
        start_sandbox(system="sevdesk", **small) as sb,
        httpx.Client(base_url=f"{sb.base_url}/api/v1", headers={"Authorization": KEY}) as client,
    ):
        assert {client.get("/Unity").status_code for _ in range(60)} == {200}
    with (
        start_sandbox(
            system="sevdesk",
            rate_limit=2,
            retry_after=True,
            contacts=5,
            invoices=5,
            vouchers=5,
            credit_notes=1,
        ) as sb,
        httpx.Client(base_url=f"{sb.base_url}/api/v1", headers={"Authorization": KEY}) as client,
    ):
        answers = [client.get("/Unity") for _ in range(10)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited and "Retry-After" in limited[0].headers and limited[0].json()["objects"] is None


def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "sevdesk.json"
    small = {"contacts": 8, "invoices": 10, "vouchers": 6, "credit_notes": 1}
    with start_sandbox(system="sevdesk", state=str(state), **small) as sb:
        contact = sb.export("demo")["contacts"][0]
        sb.edit("demo", "Contact", contact["id"], {"description": "nach dem Neustart noch da"})
        before = sb.export("demo")
    with start_sandbox(system="sevdesk", state=str(state), **small) as sb:
        assert sb.export("demo") == before


def test_save_invoice_creates_drafts_that_send_numbers_and_locks(api):
    contact = objects(
        api.get("/Contact", params={"limit": 1, "category[id]": 3, "category[objectName]": "Category"})
    )[0]
    body = {
        "invoice": {
            "objectName": "Invoice",
            "mapAll": True,
            "contact": {"id": int(contact["id"]), "objectName": "Contact"},
            "invoiceDate": "01.06.2026",
            "discount": 0,
            "status": 100,
            "taxRule": {"id": 1, "objectName": "TaxRule"},
            "taxRate": 0,
            "invoiceType": "RE",
            "currency": "EUR",
            "showNet": True,
            "timeToPay": 14,
            "customerInternalNote": "PO-4711",
        },
        "invoicePosSave": [
            {
                "objectName": "InvoicePos",
                "mapAll": True,
                "quantity": 3,
                "price": "10.00",
                "name": "Beratung",
                "unity": {"id": 1, "objectName": "Unity"},
                "taxRate": "19.00",
                "positionNumber": 0,
            },
            {
                "objectName": "InvoicePos",
                "mapAll": True,
                "quantity": 1,
                "price": "25.00",
                "name": "Paket",
                "text": "Zweite Zeile",
                "unity": {"id": 1, "objectName": "Unity"},
                "taxRate": "19.00",
                "positionNumber": 1,
            },
        ],
        "invoicePosDelete": None,
        "takeDefaultAddress": True,
    }
    saved = objects(api.post("/Invoice/Factory/saveInvoice", json=body), 201)
    inv = saved["invoice"]
    assert inv["status"] == "100" and inv["invoiceNumber"] is None and inv["enshrined"] is None
    assert (inv["sumNet"], inv["sumTax"], inv["sumGross"]) == ("55", "10.45", "65.45")
    assert inv["customerInternalNote"] == "PO-4711" and len(saved["invoicePos"]) == 2
    body["invoice"]["status"] = 200
    assert api.post("/Invoice/Factory/saveInvoice", json=body).status_code == 422  # only drafts
    sent = objects(api.put(f"/Invoice/{inv['id']}/sendBy", json={"sendType": "VPDF", "sendDraft": False}))
    assert sent["status"] == "200" and sent["invoiceNumber"].startswith("RE-") and sent["enshrined"]
    gone = api.delete(f"/Invoice/{inv['id']}")
    assert gone.status_code == 409 and gone.json()["error"]["code"] == 159


def test_new_bank_lines_only_on_online_accounts(api):
    accounts = {a["type"]: a for a in objects(api.get("/CheckAccount"))}
    line = {
        "valueDate": "2026-11-02T10:00:00+01:00",
        "amount": -0.45,
        "paymtPurpose": "Gebühr",
        "payeePayerName": "Bank",
        "status": 100,
    }
    offline = api.post(
        "/CheckAccountTransaction",
        json={**line, "checkAccount": {"id": int(accounts["register"]["id"]), "objectName": "CheckAccount"}},
    )
    assert offline.status_code == 422 and offline.json()["error"]["message"].startswith("You can only create")
    created = objects(
        api.post(
            "/CheckAccountTransaction",
            json={
                **line,
                "checkAccount": {"id": int(accounts["online"]["id"]), "objectName": "CheckAccount"},
            },
        ),
        201,
    )
    assert created["amount"] == "-0.45" and created["status"] == "100"


def test_state_survives_a_hard_kill(tmp_path):
    state = tmp_path / "sevdesk.json"
    small = {"contacts": 8, "invoices": 10, "vouchers": 6, "credit_notes": 1}
    with start_sandbox(system="sevdesk", state=str(state), **small) as sb:
        invoice = next(i for i in sb.export("demo")["invoices"] if i["status"] == "200")
        sb.edit("demo", "Invoice", invoice["id"], action="pay")
        before = sb.export("demo")
        deadline = time.monotonic() + 10
        while not state.exists() and time.monotonic() < deadline:  # autosaved within about a second
            time.sleep(0.1)
        time.sleep(1.5)
        sb.kill()
    with start_sandbox(system="sevdesk", state=str(state), **small) as sb:
        assert sb.export("demo") == before


def test_book_amount_links_an_existing_bank_line(api):
    voucher = objects(api.get("/Voucher", params={"status": "100", "creditDebit": "C", "limit": 1}))[0]
    bank = next(a for a in objects(api.get("/CheckAccount")) if a["type"] == "online")
    line = objects(
        api.post(
            "/CheckAccountTransaction",
            json={
                "valueDate": "2026-11-02T10:00:00+01:00",
                "amount": f"-{voucher['sumGross']}",
                "status": 100,
                "checkAccount": {"id": int(bank["id"]), "objectName": "CheckAccount"},
            },
        ),
        201,
    )
    log = objects(
        api.put(
            f"/Voucher/{voucher['id']}/bookAmount",
            json={
                "amount": f"-{voucher['sumGross']}",
                "date": "2026-11-02T10:00:00+01:00",
                "type": "FULL_PAYMENT",
                "checkAccount": {"id": int(bank["id"]), "objectName": "CheckAccount"},
                "checkAccountTransaction": {"id": int(line["id"]), "objectName": "CheckAccountTransaction"},
            },
        )
    )
    assert log["objectName"] == "VoucherLog" and log["toStatus"] == "1000"
    assert log["amountPayed"] == voucher["sumGross"]  # positive, although the bank line is negative
    assert objects(api.get(f"/CheckAccountTransaction/{line['id']}"))[0]["status"] == "400"
    links = objects(
        api.get(
            "/CheckAccountTransactionLog",
            params={
                "checkAccountTransaction[id]": line["id"],
                "checkAccountTransaction[objectName]": "CheckAccountTransaction",
            },
        )
    )
    assert [g["object"]["id"] for g in links] == [voucher["id"]] and links[0]["amountPaid"] < 0
    again = api.put(
        f"/Voucher/{voucher['id']}/bookAmount",
        json={"amount": "-1", "checkAccount": {"id": int(bank["id"]), "objectName": "CheckAccount"}},
    )
    assert again.status_code == 422 and again.json()["error"]["code"] == 751  # already paid


def test_enshrined_documents_refuse_every_edit(sb, api):
    sent = objects(api.get("/Invoice", params={"status": "200", "limit": 1}))[0]
    assert sent["enshrined"]
    with pytest.raises(httpx.HTTPStatusError) as err:
        sb.edit("demo", "Invoice", sent["id"], {"header": "nachträglich geändert"})
    assert err.value.response.status_code == 422
    refused = api.put(f"/Invoice/{sent['id']}", json={"header": "nachträglich geändert"})
    assert refused.status_code == 422 and "enshrined" in refused.json()["error"]["message"]
    assert objects(api.get(f"/Invoice/{sent['id']}"))[0] == sent
