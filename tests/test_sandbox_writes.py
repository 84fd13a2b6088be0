"""Sandbox writes over HTTP: creates, optimistic locking (406/409, record unchanged), validation, files."""

from __future__ import annotations

import httpx
import pytest

from sandbox.lexware.masterdata import OUTGO_IDS

KEY = "sandbox-demo-key"
NEW_CONTACT = {
    "version": 0,
    "roles": {"customer": {}},
    "company": {"name": "Elbufer Logistik KG", "vatRegistrationId": "DE298765432"},
    "addresses": {
        "billing": [{"street": "Kaistraße 7", "zip": "20457", "city": "Hamburg", "countryCode": "DE"}]
    },
    "emailAddresses": {"business": ["buchhaltung@elbufer.example"]},
}


@pytest.fixture(scope="module")
def api(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as c:
        yield c


def test_contact_create_then_update_bumps_version(api, sandbox):
    r = api.post("/v1/contacts", json=NEW_CONTACT)
    assert r.status_code == 201
    result = r.json()
    assert set(result) == {"id", "resourceUri", "createdDate", "updatedDate", "version"}
    assert result["version"] == 1 and r.headers["Location"] == result["resourceUri"]
    contact = api.get(f"/v1/contacts/{result['id']}").json()
    assert contact["roles"]["customer"]["number"] > 10000 and contact["archived"] is False
    assert contact["version"] == 1
    body = {**contact, "note": "neu"}
    r = api.put(f"/v1/contacts/{contact['id']}", json=body)
    assert r.status_code == 200 and r.json()["version"] == 2
    after = api.get(f"/v1/contacts/{contact['id']}").json()
    assert after["note"] == "neu" and after["roles"] == contact["roles"]
    assert any(c["id"] == contact["id"] for c in sandbox.export()["contacts"])


def test_contact_stale_version_is_406_naming_version_and_changes_nothing(api, sandbox):
    cid = api.post("/v1/contacts", json=NEW_CONTACT).json()["id"]
    contact = api.get(f"/v1/contacts/{cid}").json()
    sandbox.edit("demo", "contacts", cid, {"note": "von Kollegin"})
    r = api.put(f"/v1/contacts/{cid}", json={**contact, "note": "meins"})
    assert r.status_code == 406
    assert r.json()["IssueList"][0]["source"] == "version"
    current = api.get(f"/v1/contacts/{cid}").json()
    assert current["note"] == "von Kollegin" and current["version"] == 2
    r = api.put(f"/v1/contacts/{cid}", json={k: v for k, v in current.items() if k != "version"})
    assert r.status_code == 406


def test_contact_validation_issue_lists(api):
    r = api.post("/v1/contacts", json={"version": 0, "roles": {"customer": {}}})
    assert r.status_code == 406
    assert r.json()["IssueList"][0]["i18nKey"] == "missing_entity"
    assert r.json()["IssueList"][0]["source"] == "company or person"
    r = api.post("/v1/contacts", json={"version": 0, "company": {"name": "X"}})
    assert r.json()["IssueList"][0]["source"] == "roles.customer or roles.vendor"
    bad_country = {**NEW_CONTACT, "addresses": {"billing": [{"city": "X", "countryCode": "XX"}]}}
    assert (
        api.post("/v1/contacts", json=bad_country).json()["IssueList"][0]["i18nKey"]
        == "countrycode_is_not_valid"
    )
    wrong_type = {**NEW_CONTACT, "company": {"name": 42}}
    assert api.post("/v1/contacts", json=wrong_type).status_code == 406
    assert (
        api.post(
            "/v1/contacts", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )


def test_multi_entry_contacts_cannot_be_updated(api, sandbox):
    multi = next(c for c in sandbox.export()["contacts"] if len(c["addresses"]["billing"]) > 1)
    r = api.put(f"/v1/contacts/{multi['id']}", json=multi)
    assert r.status_code == 406 and r.json()["IssueList"][0]["source"] == "addresses.billing.size"
    assert api.get(f"/v1/contacts/{multi['id']}").json()["version"] == multi["version"]


def _invoice_body(contact_id):
    return {
        "voucherDate": "2026-11-01T00:00:00.000+01:00",
        "address": {"contactId": contact_id},
        "lineItems": [
            {
                "type": "custom",
                "name": "Wartung",
                "quantity": 6,
                "unitName": "Stunde",
                "unitPrice": {"currency": "EUR", "netAmount": 95.0, "taxRatePercentage": 19},
                "discountPercentage": 0,
            },
            {
                "type": "custom",
                "name": "Buch",
                "quantity": 1,
                "unitName": "Stück",
                "unitPrice": {"currency": "EUR", "netAmount": 19.99, "taxRatePercentage": 7},
            },
            {"type": "text", "name": "Hinweis", "description": "Danke"},
        ],
        "totalPrice": {"currency": "EUR"},
        "taxConditions": {"taxType": "net"},
        "shippingConditions": {"shippingType": "service", "shippingDate": "2026-10-30T00:00:00.000+01:00"},
    }


def test_invoice_create_draft_and_finalized(api, sandbox):
    customer = next(c for c in sandbox.export()["contacts"] if "customer" in c["roles"])
    r = api.post("/v1/invoices", json=_invoice_body(customer["id"]))
    assert r.status_code == 201
    draft = api.get(f"/v1/invoices/{r.json()['id']}").json()
    assert draft["voucherStatus"] == "draft" and "dueDate" not in draft
    assert draft["totalPrice"] == {
        "currency": "EUR",
        "totalNetAmount": 589.99,
        "totalGrossAmount": 699.69,
        "totalTaxAmount": 109.7,
    }
    assert draft["address"]["name"]
    r = api.post("/v1/invoices", params={"finalize": "true"}, json=_invoice_body(customer["id"]))
    inv = api.get(f"/v1/invoices/{r.json()['id']}").json()
    assert inv["voucherStatus"] == "open" and inv["dueDate"] == "2026-11-15T00:00:00.000+01:00"
    assert int(inv["voucherNumber"][2:]) == int(draft["voucherNumber"][2:]) + 1
    row = api.get(
        "/v1/voucherlist",
        params={"voucherType": "invoice", "voucherStatus": "open", "voucherNumber": inv["voucherNumber"]},
    ).json()["content"][0]
    assert row["openAmount"] == 699.69 and row["id"] == inv["id"]
    assert api.put(f"/v1/invoices/{inv['id']}", json=inv).status_code == 404
    assert api.get(f"/v1/invoices/{inv['id']}/file").headers["content-type"] == "application/pdf"
    assert api.get(f"/v1/invoices/{draft['id']}/file").status_code == 409


def test_invoice_validation_details(api, sandbox):
    customer = next(c for c in sandbox.export()["contacts"] if "customer" in c["roles"])
    body = _invoice_body(customer["id"])
    body["voucherDate"] = "2026-11-01"
    del body["lineItems"][0]["unitPrice"]["taxRatePercentage"]
    body["taxConditions"]["taxType"] = "bogus"
    r = api.post("/v1/invoices", json=body)
    assert r.status_code == 406
    fields = {d["field"] for d in r.json()["details"]}
    assert {"voucherDate", "lineItems[0].unitPrice.taxRatePercentage", "taxConditions.taxType"} <= fields
    del body["shippingConditions"]
    r = api.post("/v1/invoices", json={**_invoice_body(customer["id"]), "shippingConditions": None})
    assert r.json()["details"][0]["message"] == "The shipping conditions must not be null"


def test_credit_note_pursued_from_open_invoice_reduces_it(api, sandbox):
    customer = next(c for c in sandbox.export()["contacts"] if "customer" in c["roles"])
    inv_id = api.post("/v1/invoices", params={"finalize": "true"}, json=_invoice_body(customer["id"])).json()[
        "id"
    ]
    body = {k: v for k, v in _invoice_body(customer["id"]).items() if k != "shippingConditions"}
    body["lineItems"] = [body["lineItems"][1]]
    r = api.post(
        "/v1/credit-notes", params={"finalize": "true", "precedingSalesVoucherId": inv_id}, json=body
    )
    assert r.status_code == 201
    note = api.get(f"/v1/credit-notes/{r.json()['id']}").json()
    assert note["voucherStatus"] == "paidoff" and note["relatedVouchers"][0]["id"] == inv_id
    pay = api.get(f"/v1/payments/{inv_id}").json()
    assert pay["openAmount"] == 678.3
    assert api.get(f"/v1/invoices/{inv_id}").json()["version"] == 2
    again = api.post(
        "/v1/credit-notes", params={"finalize": "true", "precedingSalesVoucherId": inv_id}, json=body
    )
    assert again.status_code == 406


def _voucher_body():
    return {
        "type": "purchaseinvoice",
        "voucherNumber": "L-88231",
        "voucherDate": "2026-10-28",
        "totalGrossAmount": 89.25,
        "totalTaxAmount": 14.25,
        "taxType": "gross",
        "useCollectiveContact": True,
        "remark": "Büromaterial",
        "voucherItems": [
            {"amount": 89.25, "taxAmount": 14.25, "taxRatePercent": 19, "categoryId": OUTGO_IDS[0]}
        ],
    }


def test_voucher_create_update_and_stale_409(api, sandbox):
    r = api.post("/v1/vouchers", json=_voucher_body())
    assert r.status_code == 201 and r.json()["version"] == 1
    vid = r.json()["id"]
    v = api.get(f"/v1/vouchers/{vid}").json()
    assert v["voucherDate"] == "2026-10-28T00:00:00.000+01:00" and v["contactName"] == "Sammellieferant"
    assert v["dueDate"] == v["voucherDate"]
    put = {**_voucher_body(), "version": 1, "remark": "geändert"}
    r = api.put(f"/v1/vouchers/{vid}", json=put)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = api.put(f"/v1/vouchers/{vid}", json={**put, "remark": "veraltet"})
    assert r.status_code == 409 and r.json()["status"] == 409
    after = api.get(f"/v1/vouchers/{vid}").json()
    assert after["remark"] == "geändert" and after["version"] == 2
    r = api.put(f"/v1/vouchers/{vid}", json={**put, "version": 2, "voucherStatus": "open"})
    assert r.status_code == 406 and r.json()["IssueList"][0]["source"] == "voucherStatus"


def test_voucher_total_and_tax_validation(api):
    r = api.post("/v1/vouchers", json={**_voucher_body(), "totalGrossAmount": 90})
    assert r.status_code == 406
    assert r.json()["IssueList"][0] == {
        "i18nKey": "invalid_total_amount",
        "source": "totalGrossAmount",
        "type": "validation_failure",
        "additionalData": None,
        "args": None,
    }
    body = _voucher_body()
    body["voucherItems"][0]["taxAmount"] = 10
    r = api.post("/v1/vouchers", json={**body, "totalTaxAmount": 10})
    assert r.json()["IssueList"][0]["i18nKey"] == "invalid_taxamount"
    r = api.post("/v1/vouchers", json={**_voucher_body(), "useCollectiveContact": False, "contactId": None})
    assert r.json()["IssueList"][0]["source"] == "contactId"


def test_voucher_file_attach_and_upload(api):
    vid = api.post("/v1/vouchers", json=_voucher_body()).json()["id"]
    pdf = b"%PDF-1.4\n% beleg\n%%EOF\n"
    r = api.post(f"/v1/vouchers/{vid}/files", files={"file": ("beleg.pdf", pdf, "application/pdf")})
    assert r.status_code == 202
    fid = r.json()["id"]
    v = api.get(f"/v1/vouchers/{vid}").json()
    assert v["files"] == [fid] and v["version"] == 2
    again = api.post(f"/v1/vouchers/{vid}/files", files={"file": ("kopie.pdf", pdf, "application/pdf")})
    assert again.json()["id"] == fid
    got = api.get(f"/v1/files/{fid}", headers={"Accept": "*/*"})
    assert got.content == pdf and got.headers["content-type"] == "application/pdf"
    assert api.get(f"/v1/files/{fid}", headers={"Accept": "application/xml"}).status_code == 404
    bad = api.post(f"/v1/vouchers/{vid}/files", files={"file": ("x.gif", b"GIF89a", "image/gif")})
    assert bad.status_code == 406 and bad.json()["IssueList"][0]["i18nKey"] == "inacceptable_file_extension"
    big = api.post(
        f"/v1/vouchers/{vid}/files", files={"file": ("x.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024), "a/b")}
    )
    assert big.json()["IssueList"][0]["i18nKey"] == "max_file_size_exceeded"
    r = api.post(
        "/v1/files",
        files={"file": ("scan.pdf", b"%PDF-1.4 scan\n%%EOF\n", "application/pdf")},
        data={"type": "voucher"},
    )
    assert r.status_code == 202 and set(r.json()) == {"id", "voucherId"}
    assert api.get(f"/v1/vouchers/{r.json()['voucherId']}").json()["voucherStatus"] in ("blank", "unchecked")
    r = api.post(
        "/v1/files",
        files={"file": ("scan2.pdf", b"%PDF-1.4 other\n%%EOF\n", "application/pdf")},
        data={"type": "receipt"},
    )
    assert r.status_code == 400
    assert api.post(f"/v1/vouchers/{vid}/files", json={}).status_code == 415


def test_operator_delete_only_drafts_and_then_404(api, sandbox):
    truth = sandbox.export()
    draft = next(i for i in truth["invoices"] if i["voucherStatus"] == "draft")
    paid = next(i for i in truth["invoices"] if i["voucherStatus"] == "paid")
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.edit("demo", "invoices", paid["id"], action="delete")
    sandbox.edit("demo", "invoices", draft["id"], action="delete")
    assert api.get(f"/v1/invoices/{draft['id']}").status_code == 404
    after = sandbox.export()
    assert draft["id"] not in {r["id"] for r in after["voucherlist"]}
    assert draft["id"] not in {r["id"] for r in after["invoices"]}


def test_operator_pay_and_void(api, sandbox):
    truth = sandbox.export()
    open_inv = next(i for i in truth["invoices"] if i["voucherStatus"] == "open")
    paid = sandbox.edit("demo", "invoices", open_inv["id"], action="pay")
    assert paid["voucherStatus"] == "paid" and paid["version"] == open_inv["version"] + 1
    assert paid["updatedDate"] > open_inv["updatedDate"]
    pay = api.get(f"/v1/payments/{open_inv['id']}").json()
    assert pay["openAmount"] == 0 and pay["paymentStatus"] == "balanced" and pay["paidDate"]
    open_v = next(v for v in truth["vouchers"] if v["voucherStatus"] == "open")
    voided = sandbox.edit("demo", "vouchers", open_v["id"], action="void")
    assert voided["voucherStatus"] == "voided"
    row = next(r for r in sandbox.export()["voucherlist"] if r["id"] == open_v["id"])
    assert row["voucherStatus"] == "voided" and row["openAmount"] == 0


def test_unchecked_voucher_can_only_be_finalised_to_open(api):
    body = {**_voucher_body(), "voucherStatus": "unchecked"}
    vid = api.post("/v1/vouchers", json=body).json()["id"]
    assert api.get(f"/v1/payments/{vid}").status_code == 406
    plain = {**_voucher_body(), "version": 1}
    assert api.put(f"/v1/vouchers/{vid}", json=plain).status_code == 406
    r = api.put(f"/v1/vouchers/{vid}", json={**plain, "voucherStatus": "open"})
    assert r.status_code == 200
    assert api.get(f"/v1/vouchers/{vid}").json()["voucherStatus"] == "open"
    assert api.get(f"/v1/payments/{vid}").json()["openAmount"] == 89.25
    assert (
        api.post(
            "/v1/vouchers", json={**_voucher_body(), "voucherStatus": "unchecked", "taxType": "net"}
        ).status_code
        == 406
    )
