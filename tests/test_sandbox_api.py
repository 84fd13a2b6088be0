"""The sandbox over real HTTP: paging envelopes, filters, required parameters, error bodies, determinism."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import httpx
import pytest

from sandbox.process import start_sandbox

KEY = "sandbox-demo-key"
REGULAR_KEYS = {"timestamp", "status", "error", "path", "traceId", "requestId", "message"}


@pytest.fixture(scope="module")
def api(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def truth(sandbox):
    return sandbox.export("demo")


def vl(api, **params):
    return api.get("/v1/voucherlist", params={"voucherType": "any", "voucherStatus": "any", **params})


def all_pages(api, path, **params):
    rows, page = [], 0
    while True:
        body = api.get(path, params={**params, "page": page, "size": 250}).json()
        rows += body["content"]
        if body["last"]:
            return rows
        page += 1


def test_profile_and_master_data(api, truth):
    assert api.get("/v1/profile").json() == truth["profile"]
    cats = api.get("/v1/posting-categories").json()
    assert isinstance(cats, list) and {c["type"] for c in cats} == {"income", "outgo"}
    assert any(c["id"] == "8f8664a8-fd86-11e1-a21f-0800200c9a66" for c in cats)
    assert isinstance(api.get("/v1/countries").json(), list)
    assert isinstance(api.get("/v1/payment-conditions").json(), list)


def test_contacts_paging_envelope_and_order(api, truth):
    body = api.get("/v1/contacts", params={"size": 7, "page": 1}).json()
    assert set(body) == {
        "content",
        "first",
        "last",
        "totalPages",
        "totalElements",
        "numberOfElements",
        "size",
        "number",
        "sort",
    }
    total = len(truth["contacts"])
    assert (body["size"], body["number"], body["numberOfElements"], body["totalElements"]) == (7, 1, 7, total)
    assert body["totalPages"] == -(-total // 7) and not body["first"] and not body["last"]
    assert body["sort"][0]["property"] == "name" and body["sort"][0]["direction"] == "ASC"
    assert [c["id"] for c in all_pages(api, "/v1/contacts")] == [c["id"] for c in truth["contacts"]]
    assert api.get("/v1/contacts").json()["size"] == 25


def test_contacts_size_limit_and_filters(api, truth):
    r = api.get("/v1/contacts", params={"size": 251})
    assert r.status_code == 400 and "IssueList" in r.json()
    short = api.get("/v1/contacts", params={"name": "ab"})
    assert short.status_code == 400
    assert short.json()["IssueList"][0]["source"] == "size must be between 3 and 128"
    bad_number = api.get("/v1/contacts", params={"number": "abc"}).json()
    assert bad_number == {
        "IssueList": [
            {
                "i18nKey": "invalid_value",
                "source": "number",
                "type": "validation_failure",
                "additionalData": None,
                "args": None,
            }
        ]
    }
    vendors = all_pages(api, "/v1/contacts", vendor="true")
    assert vendors and all("vendor" in c["roles"] for c in vendors)
    assert len(vendors) == sum("vendor" in c["roles"] for c in truth["contacts"])
    non_customers = all_pages(api, "/v1/contacts", customer="false")
    assert all("customer" not in c["roles"] for c in non_customers)
    company = next(c for c in truth["contacts"] if "company" in c)
    number = next(iter(company["roles"].values()))["number"]
    assert [c["id"] for c in api.get("/v1/contacts", params={"number": number}).json()["content"]] == [
        company["id"]
    ]
    word = company["company"]["name"].split()[0]
    by_name = all_pages(api, "/v1/contacts", name=word.lower())
    assert company["id"] in [c["id"] for c in by_name]
    assert all(word.lower() in c.get("company", {}).get("name", "").lower() or "person" in c for c in by_name)
    wildcard = all_pages(api, "/v1/contacts", name=word[:2] + "_" + word[3:])
    assert company["id"] in [c["id"] for c in wildcard]
    with_mail = next(c for c in truth["contacts"] if c.get("emailAddresses"))
    mail = next(iter(with_mail["emailAddresses"].values()))[0]
    assert with_mail["id"] in [c["id"] for c in all_pages(api, "/v1/contacts", email=mail.upper())]


def test_contact_get_and_404(api, truth):
    c = truth["contacts"][3]
    assert api.get(f"/v1/contacts/{c['id']}").json() == c
    assert api.get("/v1/contacts/00000000-0000-4000-8000-000000000000").status_code == 404


def test_voucherlist_required_parameters_and_enums(api):
    r = api.get("/v1/voucherlist", params={"voucherType": "invoice"})
    assert r.status_code == 400 and r.json()["message"] == "Missing required request parameters"
    assert set(r.json()) >= REGULAR_KEYS
    r = api.get("/v1/voucherlist", params={"voucherType": "dunning", "voucherStatus": "any"})
    assert r.status_code == 400
    assert r.json()["message"] == "Invalid value 'dunning' received for request parameter 'voucherType'."
    r = api.get("/v1/voucherlist", params={"voucherType": "invoice", "voucherStatus": "paymentordered"})
    assert r.status_code == 400
    assert vl(api, voucherStatus="overdue,open").status_code == 400
    r = vl(api, size=251)
    assert r.status_code == 400 and r.json()["message"] == "parameter 'size' must be equal or lower than 250"
    assert vl(api, sort="contactName,ASC").json()["message"] == "parameter 'sort' is invalid"
    r = vl(api, voucherDateFrom="2025-01-01T00:00:00+00:00")
    assert r.status_code == 400 and "'voucherDateFrom'" in r.json()["message"]
    r = vl(api, updatedDateTo="2025-02-30")  # the right shape, no such day
    assert r.status_code == 400 and "'updatedDateTo'" in r.json()["message"]
    assert vl(api, updatedDateTo="2024-02-29").status_code == 200
    assert vl(api, voucherStatus="unchecked,blank").status_code == 200


def test_voucherlist_matches_details_and_payments(api, truth):
    rows = all_pages(api, "/v1/voucherlist", voucherType="any", voucherStatus="any")
    assert rows == truth["voucherlist"]
    assert len(rows) == len(truth["invoices"]) + len(truth["credit_notes"]) + len(truth["vouchers"])
    invoices = {r["id"]: r for r in truth["invoices"]}
    for row in rows:
        if row["voucherType"] != "invoice":
            continue
        inv = invoices[row["id"]]
        assert row["totalAmount"] == inv["totalPrice"]["totalGrossAmount"]
        pay = truth["payments"].get(row["id"])
        if inv["voucherStatus"] == "draft":
            assert row["openAmount"] is None and pay is None
        else:
            assert row["openAmount"] == pay["openAmount"]
            paid = sum(Decimal(str(p["amount"])) for p in pay["paymentItems"])
            if inv["voucherStatus"] == "open":
                assert Decimal(str(pay["openAmount"])) == Decimal(str(row["totalAmount"])) - paid


def test_voucherlist_filters(api, truth):
    by_type = all_pages(api, "/v1/voucherlist", voucherType="invoice,creditnote", voucherStatus="any")
    assert {r["voucherType"] for r in by_type} == {"invoice", "creditnote"}
    assert len(by_type) == len(truth["invoices"]) + len(truth["credit_notes"])
    paid = all_pages(api, "/v1/voucherlist", voucherType="any", voucherStatus="paid")
    assert paid and all(r["voucherStatus"] == "paid" for r in paid)
    overdue = all_pages(api, "/v1/voucherlist", voucherType="invoice", voucherStatus="overdue")
    opened = all_pages(api, "/v1/voucherlist", voucherType="invoice", voucherStatus="open")
    assert overdue and {r["id"] for r in overdue} <= {r["id"] for r in opened}
    assert all(r["voucherStatus"] == "overdue" and r["dueDate"] < "2026-11-02" for r in overdue)
    contact_id = next(r["contactId"] for r in truth["voucherlist"] if r["contactId"])
    mine = all_pages(api, "/v1/voucherlist", voucherType="any", voucherStatus="any", contactId=contact_id)
    assert mine and all(r["contactId"] == contact_id for r in mine)
    number = truth["invoices"][10]["voucherNumber"]
    assert [r["voucherNumber"] for r in vl(api, voucherNumber=number).json()["content"]] == [number]
    assert vl(api, voucherNumber=number[:-1]).json()["totalElements"] == 0


def _berlin_day(ts: str) -> str:
    return datetime.fromisoformat(ts).strftime("%Y-%m-%d")


@pytest.mark.parametrize("field", ["voucherDate", "createdDate", "updatedDate"])
def test_voucherlist_date_ranges_are_inclusive_berlin_days(api, truth, field):
    days = sorted({_berlin_day(r[field]) for r in truth["voucherlist"] if r.get(field)})
    lo, hi = days[len(days) // 3], days[2 * len(days) // 3]
    got = all_pages(
        api,
        "/v1/voucherlist",
        voucherType="any",
        voucherStatus="any",
        **{f"{field}From": lo, f"{field}To": hi},
    )
    expected = [r["id"] for r in truth["voucherlist"] if r.get(field) and lo <= _berlin_day(r[field]) <= hi]
    assert sorted(r["id"] for r in got) == sorted(expected) and expected
    assert any(_berlin_day(r[field]) == hi for r in got) and any(_berlin_day(r[field]) == lo for r in got)


def test_voucherlist_sorting(api):
    for prop in ("voucherDate", "voucherNumber", "createdDate", "updatedDate"):
        for direction in ("ASC", "DESC"):
            rows = vl(api, sort=f"{prop},{direction}", size=100).json()["content"]
            keys = [
                datetime.fromisoformat(r[prop]) if prop != "voucherNumber" else r[prop]
                for r in rows
                if r.get(prop)
            ]
            assert keys == sorted(keys, reverse=direction == "DESC"), prop


def test_detail_endpoints_match_export(api, truth):
    inv = next(i for i in truth["invoices"] if i["voucherStatus"] == "paid")
    assert api.get(f"/v1/invoices/{inv['id']}").json() == inv
    cn = truth["credit_notes"][0]
    assert api.get(f"/v1/credit-notes/{cn['id']}").json() == cn
    v = truth["vouchers"][0]
    assert api.get(f"/v1/vouchers/{v['id']}").json() == v
    assert api.get(f"/v1/payments/{inv['id']}").json() == truth["payments"][inv["id"]]
    draft = next(i for i in truth["invoices"] if i["voucherStatus"] == "draft")
    assert api.get(f"/v1/payments/{draft['id']}").status_code == 406
    assert "dueDate" not in draft and "files" not in draft
    assert api.get("/v1/invoices").status_code == 404
    assert api.get(f"/v1/invoices/{v['id']}").status_code == 404


def test_invoice_totals_add_up_to_the_cent(truth):
    for inv in truth["invoices"]:
        tp = inv["totalPrice"]
        net = sum(Decimal(str(t["netAmount"])) for t in inv["taxAmounts"])
        tax = sum(Decimal(str(t["taxAmount"])) for t in inv["taxAmounts"])
        assert Decimal(str(tp["totalNetAmount"])) == net and Decimal(str(tp["totalTaxAmount"])) == tax
        assert Decimal(str(tp["totalGrossAmount"])) == net + tax
    rates = {t["taxRatePercentage"] for inv in truth["invoices"] for t in inv["taxAmounts"]}
    assert {0, 7, 19} <= rates
    for v in truth["vouchers"]:
        items = v["voucherItems"]
        tax = sum(Decimal(str(i["taxAmount"])) for i in items)
        assert Decimal(str(v["totalTaxAmount"])) == tax


def test_auth_and_gateway_errors(sandbox, api):
    r = httpx.get(f"{sandbox.base_url}/v1/profile")
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    r = httpx.get(f"{sandbox.base_url}/v1/profile", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert api.get("/v1/organization").status_code == 403
    assert api.delete("/v1/contacts/x").status_code == 404
    assert api.get("/v1/profile", headers={"Accept": "text/html"}).status_code == 406
    assert api.post("/v1/contacts", content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415


def test_same_seed_same_bytes_other_seed_other_data(sandbox):
    first = httpx.get(f"{sandbox.base_url}/_sandbox/tenants/demo/export").content
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small", seed=42) as again:
        same = httpx.get(f"{again.base_url}/_sandbox/tenants/demo/export").content
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small", seed=7) as other:
        different = httpx.get(f"{other.base_url}/_sandbox/tenants/demo/export").content
    assert first == same
    assert first != different


def test_voucherlist_envelope_archived_filter_and_blank_statuses(api, truth):
    body = vl(api, size=10, page=2).json()
    total = len(truth["voucherlist"])
    assert (body["size"], body["number"], body["numberOfElements"], body["totalElements"]) == (
        10,
        2,
        10,
        total,
    )
    assert body["sort"] == [
        {
            "direction": "DESC",
            "property": "voucherdate",
            "ignoreCase": False,
            "nullHandling": "NATIVE",
            "ascending": False,
        }
    ]
    assert [r["id"] for r in body["content"]] == [r["id"] for r in truth["voucherlist"][20:30]]
    assert vl(api, archived="true").json()["totalElements"] == sum(
        r["archived"] for r in truth["voucherlist"]
    )
    assert vl(api, archived="false").json()["totalElements"] == total
    unchecked = all_pages(
        api,
        "/v1/voucherlist",
        voucherType="purchaseinvoice,salesinvoice,purchasecreditnote,salescreditnote",
        voucherStatus="unchecked",
    )
    assert all(r["voucherStatus"] == "unchecked" and r["openAmount"] is None for r in unchecked)


def test_search_window_of_10000_rows():
    with start_sandbox(
        tenants={"demo": KEY}, rate_limit=0, contacts=20, invoices=10_050, vouchers=0, credit_notes=0
    ) as sb:
        params = {"voucherType": "invoice", "voucherStatus": "any", "size": 250}
        with httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"}) as c:
            last_ok = c.get("/v1/voucherlist", params={**params, "page": 39}).json()
            assert last_ok["totalElements"] == 10_000 and last_ok["numberOfElements"] == 250
            r = c.get("/v1/voucherlist", params={**params, "page": 40})
            assert r.status_code == 400 and r.json()["message"] == "Maximum search window size exceeded"
            narrow = c.get(
                "/v1/voucherlist", params={**params, "page": 0, "voucherDateFrom": "2026-01-01"}
            ).json()
            assert narrow["totalElements"] < 10_000


def test_operator_reset_restores_seeded_books(sandbox):
    sandbox.reset()  # the session sandbox may have been changed by other modules
    before = httpx.get(f"{sandbox.base_url}/_sandbox/tenants/demo/export").content
    contact = sandbox.export()["contacts"][0]
    sandbox.edit("demo", "contacts", contact["id"], {"note": "temporary"})
    assert httpx.get(f"{sandbox.base_url}/_sandbox/tenants/demo/export").content != before
    sandbox.reset()
    assert httpx.get(f"{sandbox.base_url}/_sandbox/tenants/demo/export").content == before
