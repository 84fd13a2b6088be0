"""Sandbox fidelity points found by running third-party Lexware clients against it: documents through
/v1/files, real PDFs and the toxic-PDF refusal, Berlin dates whatever offset a client sends, error
timestamps on the sandbox clock, articles, and the switchable disputed voucher behaviours."""

from __future__ import annotations

import io
import re
from datetime import datetime

import httpx
import pypdf
import pytest

from sandbox.clock import BERLIN
from sandbox.lexware.masterdata import OUTGO_IDS
from sandbox.lexware.pdf import render_pdf
from sandbox.process import start_sandbox

KEY = "sandbox-demo-key"
SMALL = {"contacts": 20, "invoices": 40, "vouchers": 20, "credit_notes": 6}


def _client(sb) -> httpx.Client:
    return httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)


@pytest.fixture(scope="module")
def sb():
    """A sandbox of its own: the clock test jumps its time forward."""
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, **SMALL) as proc:
        yield proc


@pytest.fixture(scope="module")
def api(sb):
    with _client(sb) as c:
        yield c


def _xref_offsets_point_at_objects(content: bytes) -> None:
    """Structure check independent of any reader: startxref -> the xref table, each entry -> its object."""
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", content).group(1))
    assert content[start : start + 4] == b"xref"
    head = re.match(rb"xref\s+0 (\d+)\s+", content[start:])
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) ", content[start + head.end() - 1 :])
    assert len(entries) == int(head.group(1))
    for number, (offset, _gen, kind) in enumerate(entries):
        if kind == b"n":
            assert content[int(offset) :].startswith(b"%d 0 obj" % number)


def _finalized(sb, kind: str) -> dict:
    return next(r for r in sb.export()[kind] if r["voucherStatus"] not in ("draft",) and r.get("files"))


@pytest.mark.parametrize("kind, resource", [("invoices", "invoices"), ("credit_notes", "credit-notes")])
def test_document_file_id_serves_the_same_pdf_as_the_file_endpoint(api, sb, kind, resource):
    rec = _finalized(sb, kind)
    doc = api.get(f"/v1/{resource}/{rec['id']}/document")
    assert doc.status_code == 200 and doc.json() == {"documentFileId": rec["files"]["documentFileId"]}
    got = api.get(f"/v1/files/{doc.json()['documentFileId']}", headers={"Accept": "*/*"})
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == f"inline; filename={doc.json()['documentFileId']}.pdf;"
    assert got.content == api.get(f"/v1/{resource}/{rec['id']}/file").content
    as_xml = api.get(f"/v1/files/{doc.json()['documentFileId']}", headers={"Accept": "application/xml"})
    assert as_xml.status_code == 404  # a regular PDF has no XML (Accept matrix, reference §4.8)
    assert api.get("/v1/files/0b7d6c5e-0000-4000-8000-000000000000").status_code == 404


def test_document_pdf_is_valid_and_shows_the_document(api, sb):
    rec = _finalized(sb, "invoices")
    content = api.get(f"/v1/invoices/{rec['id']}/file").content
    _xref_offsets_point_at_objects(content)
    reader = pypdf.PdfReader(io.BytesIO(content), strict=True)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert rec["voucherNumber"] in text
    assert f"{rec['totalPrice']['totalGrossAmount']:.2f} EUR" in text
    assert rec["address"]["name"] in text  # umlauts survive (WinAnsi)


def test_broken_pdf_upload_is_refused_as_toxic(api):
    valid = render_pdf(["Beleg 4711", "Summe 89,25 EUR"])
    pypdf.PdfReader(io.BytesIO(valid), strict=True)  # the fixture itself is a valid PDF
    broken = {
        "cut off": valid[: len(valid) // 2],
        "no header": valid[9:],
        "startxref into nothing": valid.replace(b"startxref\n", b"startxref\n9").rstrip(b"\n"),
    }
    for name, content in broken.items():
        r = api.post(
            "/v1/files", files={"file": ("scan.pdf", content, "application/pdf")}, data={"type": "voucher"}
        )
        assert r.status_code == 406, name
        assert r.json()["IssueList"][0]["i18nKey"] == "voucher_upload_toxic_pdf", name
    ok = api.post(
        "/v1/files", files={"file": ("scan.pdf", valid, "application/pdf")}, data={"type": "voucher"}
    )
    assert ok.status_code == 202
    assert api.get(f"/v1/files/{ok.json()['id']}").content == valid


def _invoice_body(contact_id: str, voucher_date: str) -> dict:
    return {
        "voucherDate": voucher_date,
        "address": {"contactId": contact_id},
        "lineItems": [
            {
                "type": "custom",
                "name": "Beratung",
                "quantity": 1,
                "unitName": "Stunde",
                "unitPrice": {"currency": "EUR", "netAmount": 100, "taxRatePercentage": 19},
            }
        ],
        "totalPrice": {"currency": "EUR"},
        "taxConditions": {"taxType": "net"},
        "paymentConditions": {"paymentTermLabel": "14 Tage", "paymentTermDuration": 14},
        "shippingConditions": {"shippingType": "service", "shippingDate": "2026-11-02T23:15:00.000Z"},
    }


@pytest.mark.parametrize("sent", ["2026-11-02T23:30:00.000Z", "2026-11-03T05:30:00.000+06:00"])
def test_dates_come_back_in_berlin_time_and_keep_the_berlin_day(api, sb, sent):
    """00:30 Berlin on 3 Nov, written in UTC or +06:00: the invoice is dated 3 Nov, not 2 Nov."""
    customer = next(c for c in sb.export()["contacts"] if "customer" in c["roles"] and not c["archived"])
    r = api.post("/v1/invoices", params={"finalize": "true"}, json=_invoice_body(customer["id"], sent))
    assert r.status_code == 201, r.text
    inv = api.get(f"/v1/invoices/{r.json()['id']}").json()
    assert inv["voucherDate"] == "2026-11-03T00:30:00.000+01:00"
    assert inv["shippingConditions"]["shippingDate"] == "2026-11-03T00:15:00.000+01:00"
    assert inv["dueDate"] == "2026-11-17T00:00:00.000+01:00"  # 14 days from the Berlin day
    listed = api.get(
        "/v1/voucherlist",
        params={
            "voucherType": "invoice",
            "voucherStatus": "any",
            "voucherDateFrom": "2026-11-03",
            "voucherDateTo": "2026-11-03",
        },
    )
    assert inv["id"] in {e["id"] for e in listed.json()["content"]}
    pdf = pypdf.PdfReader(io.BytesIO(api.get(f"/v1/invoices/{inv['id']}/file").content))
    assert "Datum: 03.11.2026" in pdf.pages[0].extract_text()


def test_error_timestamp_uses_the_sandbox_clock(api, sb):
    jumped = datetime(2031, 5, 6, 7, 8, 9, tzinfo=BERLIN)
    sb.clock(jumped)
    for body in (api.get("/v1/no-such-route").json(), api.get("/v1/voucherlist").json()):
        stamp = datetime.fromisoformat(body["timestamp"])
        assert jumped <= stamp < datetime(2031, 5, 6, 8, 8, 9, tzinfo=BERLIN)
        assert body["timestamp"].endswith("+02:00")  # Berlin summer time of the sandbox's date


def test_articles_list_get_filters_and_errors(api, sb):
    page = api.get("/v1/articles", params={"size": 250}).json()
    articles = page["content"]
    assert page["totalElements"] == len(articles) >= 10 and page["sort"][0]["property"] == "title"
    assert [a["title"].casefold() for a in articles] == sorted(a["title"].casefold() for a in articles)
    fields = {
        "id",
        "organizationId",
        "createdDate",
        "updatedDate",
        "archived",
        "title",
        "description",
        "type",
        "articleNumber",
        "gtin",
        "note",
        "unitName",
        "price",
        "version",
    }
    assert all(set(a) == fields for a in articles)  # explicit nulls, as observed live
    assert any(a["gtin"] is None for a in articles) and any(a["articleNumber"] is None for a in articles)
    for a in articles:
        price = a["price"]
        assert a["type"] in ("PRODUCT", "SERVICE") and price["taxRate"] in (0, 7, 19)
        assert abs(price["netPrice"] * (100 + price["taxRate"]) / 100 - price["grossPrice"]) <= 0.01
    numbered = next(a for a in articles if a["articleNumber"] and a["gtin"])
    for name in ("articleNumber", "gtin"):
        found = api.get("/v1/articles", params={name: numbered[name]}).json()["content"]
        assert [a["id"] for a in found] == [numbered["id"]]
    services = api.get("/v1/articles", params={"type": "SERVICE", "size": 250}).json()["content"]
    assert services and {a["type"] for a in services} == {"SERVICE"} and len(services) < len(articles)
    assert api.get(f"/v1/articles/{numbered['id']}").json() == numbered
    second = api.get("/v1/articles", params={"size": 3, "page": 1}).json()
    assert [a["id"] for a in second["content"]] == [a["id"] for a in articles[3:6]]
    bad = api.get("/v1/articles", params={"type": "service"})
    assert bad.status_code == 400 and bad.json()["path"] == "/v1/articles"  # regular error body
    assert api.get("/v1/articles", params={"size": 251}).status_code == 400
    missing = api.get("/v1/articles/5d0f7e5a-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert sb.export()["articles"] == articles


def test_invoice_lines_reference_seeded_articles(sb):
    truth = sb.export()
    articles = {a["id"]: a for a in truth["articles"]}
    lines = [
        li for inv in truth["invoices"] for li in inv["lineItems"] if li["type"] in ("material", "service")
    ]
    assert len(lines) >= 10
    for li in lines:
        article = articles[li["id"]]
        assert li["name"] == article["title"] and li["unitName"] == article["unitName"]
        assert li["type"] == ("service" if article["type"] == "SERVICE" else "material")
    assert any(li["type"] == "custom" for inv in truth["invoices"] for li in inv["lineItems"])


def test_operator_can_delete_an_article(api, sb):
    victim = sb.export()["articles"][-1]
    sb.edit("demo", "articles", victim["id"], action="delete")
    assert api.get(f"/v1/articles/{victim['id']}").status_code == 404
    assert victim["id"] not in {a["id"] for a in sb.export()["articles"]}


def _unchecked_voucher(api) -> dict:
    body = {
        "type": "purchaseinvoice",
        "voucherStatus": "unchecked",
        "taxType": "gross",
        "totalGrossAmount": 0,
        "totalTaxAmount": 0,
        "useCollectiveContact": True,
        "voucherItems": [],
    }
    r = api.post("/v1/vouchers", json=body)
    assert r.status_code == 201, r.text
    return api.get(f"/v1/vouchers/{r.json()['id']}").json()


def _open_voucher(api) -> dict:
    body = {
        "type": "purchaseinvoice",
        "voucherNumber": "L-1",
        "voucherDate": "2026-10-28",
        "totalGrossAmount": 119.0,
        "totalTaxAmount": 19.0,
        "taxType": "gross",
        "useCollectiveContact": True,
        "voucherItems": [
            {"amount": 119.0, "taxAmount": 19.0, "taxRatePercent": 19, "categoryId": OUTGO_IDS[0]}
        ],
    }
    r = api.post("/v1/vouchers", json=body)
    assert r.status_code == 201, r.text
    return api.get(f"/v1/vouchers/{r.json()['id']}").json()


def _echo(voucher: dict, **changes) -> dict:
    """What a GET-merge-PUT client sends: the read-back minus read-only fields, dates as read."""
    drop = {"id", "organizationId", "voucherStatus", "createdDate", "updatedDate", "contactName"}
    return {**{k: v for k, v in voucher.items() if k not in drop}, **changes}


def test_disputed_voucher_writes_default_to_the_documented_behaviour(api):
    voucher = _open_voucher(api)
    r = api.put(f"/v1/vouchers/{voucher['id']}", json=_echo(voucher, remark="x"))
    assert r.status_code == 406  # full dateTimes echoed: only yyyy-MM-dd is documented
    assert {i["source"] for i in r.json()["IssueList"]} == {"voucherDate", "dueDate"}
    unchecked = _unchecked_voucher(api)
    r = api.put(f"/v1/vouchers/{unchecked['id']}", json=_echo(unchecked, remark="x"))
    assert r.status_code == 406 and r.json()["IssueList"][0]["source"] == "voucherStatus"


def test_disputed_voucher_writes_are_switchable():
    with (
        start_sandbox(
            tenants={"demo": KEY},
            rate_limit=1000,
            voucher_write_dates="datetime",
            unchecked_voucher_put="keep",
            **SMALL,
        ) as proc,
        _client(proc) as api,
    ):
        voucher = _open_voucher(api)
        r = api.put(f"/v1/vouchers/{voucher['id']}", json=_echo(voucher, remark="x"))
        assert r.status_code == 200, r.text
        after = api.get(f"/v1/vouchers/{voucher['id']}").json()
        assert after["voucherDate"] == voucher["voucherDate"] == "2026-10-28T00:00:00.000+01:00"
        assert after["remark"] == "x" and after["version"] == voucher["version"] + 1
        utc = _echo(after, voucherDate="2026-10-28T23:30:00.000Z")  # 00:30 Berlin on the 29th
        assert api.put(f"/v1/vouchers/{voucher['id']}", json=utc).status_code == 200
        assert (
            api.get(f"/v1/vouchers/{voucher['id']}").json()["voucherDate"] == "2026-10-29T00:00:00.000+01:00"
        )
        unchecked = _unchecked_voucher(api)
        r = api.put(f"/v1/vouchers/{unchecked['id']}", json=_echo(unchecked, remark="x"))
        assert r.status_code == 200, r.text
        kept = api.get(f"/v1/vouchers/{unchecked['id']}").json()
        assert kept["voucherStatus"] == "unchecked" and kept["remark"] == "x"
