"""Incremental extraction against a sandbox that another user keeps editing (`--churn`): full sync,
then rounds of churn -> pause -> incremental sync. After every sync the raw tables equal the
sandbox's ground truth exactly, without duplicates, for exactly the predicted number of requests:
the fixed list calls plus the details and payments of what is stale in the warehouse (changed, new)
- nothing more. Plus an edit racing a multi-page voucherlist listing, caught up by the next run, and
edits either side of Berlin midnight (the voucherlist date filters take whole Berlin days)."""

from __future__ import annotations

import math
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.sandbox_sync import detail_cost, write_config
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.helpers import berlin_day, parse_ts
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, count_rows, rows

KEY, ENV = "churn-key", "KONTOR_TEST_CHURN_KEY"
CHURN_RATE = 40  # edits per second while running
CHURN_SECONDS = 2
CYCLES = 3
TABLES = ("contacts", "voucherlist", "invoices", "credit_notes", "vouchers", "payments")


def stale(cfg, export: dict) -> dict[str, set[str]]:
    """What the warehouse lacks against the export: changed or new ids per list, and deleted ids."""
    contacts, listed = rows(cfg, "contacts", "demo"), rows(cfg, "voucherlist", "demo")
    truth = {e["id"]: e for e in export["voucherlist"]}
    return {
        "contacts": {c["id"] for c in export["contacts"] if contacts.get(c["id"]) != c},
        "voucherlist": {i for i, e in truth.items() if listed.get(i) != e},
        "deleted": listed.keys() - truth.keys(),
    }


def list_pages(n: int) -> int:
    return max(1, math.ceil(n / 250))


def assert_exact(cfg, export: dict) -> None:
    assert_matches_export(cfg, export, "demo")
    for table in TABLES:
        total, distinct = count_rows(cfg, table)
        assert total == distinct, f"{table}: {total - distinct} duplicate rows"


def list_cost(export: dict, cursor: str) -> int:
    """Requests of an incremental run before details: profile, posting categories, the contact and article
    pages and the voucherlist pages from the Berlin day of the low-water mark `cursor` (as the previous run
    reported it from the dlt state) on; the filter has day granularity."""
    day = berlin_day(parse_ts(cursor))
    window = [e for e in export["voucherlist"] if berlin_day(parse_ts(e["updatedDate"])) >= day]
    master = list_pages(len(export["contacts"])) + list_pages(len(export["articles"]))
    return 2 + master + list_pages(len(window))


def incremental_sync(sb, cfg, export: dict, cursor: str) -> dict:
    """Incremental sync without reconciliation, then (if records vanished) a reconciling one; both
    cost exactly what the change set predicts. Returns the figures of the round."""
    change = stale(cfg, export)
    assert change["voucherlist"] or change["contacts"], "churn changed nothing"
    predicted = list_cost(export, cursor) + detail_cost(export, change["voucherlist"])
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=False)
    made = sb.tenant_stats("demo")["requests"]
    assert made == result.client["requests"] == predicted
    assert result.rows.get("voucherlist", 0) == len(change["voucherlist"])
    assert result.rows.get("contacts", 0) == len(change["contacts"])
    types = {e["id"]: e["voucherType"] for e in export["voucherlist"]}
    assert result.rows.get("invoices", 0) == sum(types[i] == "invoice" for i in change["voucherlist"])
    assert result.rows.get("payments", 0) == len(change["voucherlist"] & export["payments"].keys())
    figures = {
        "changed_contacts": len(change["contacts"]),
        "changed_vouchers": len(change["voucherlist"]),
        "deleted": len(change["deleted"]),
        "predicted": predicted,
        "made": made,
    }
    if change["deleted"]:  # only a reconciliation (list pages only) finds records that vanished
        assert stale(cfg, export) == {"contacts": set(), "voucherlist": set(), "deleted": change["deleted"]}
        # list pages only, plus one GET per vanished record confirming it is gone
        reconcile_cost = (
            2
            + list_pages(len(export["contacts"]))
            + list_pages(len(export["articles"]))
            + list_pages(len(export["voucherlist"]))
            + len(change["deleted"])
        )
        sb.reset_stats()
        reconciled = sync_tenant(cfg, "demo", reconcile=True)
        assert sb.tenant_stats("demo")["requests"] == reconcile_cost
        assert reconciled.flagged_deleted["voucherlist"] == len(change["deleted"])
        assert rows(cfg, "voucherlist", "demo", deleted=True).keys() >= change["deleted"]
        figures["reconcile_requests"] = reconcile_cost
    assert_exact(cfg, export)
    figures["cursor"] = result.cursor
    return figures


def test_incremental_syncs_catch_up_with_churn_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    figures = []
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small", churn=CHURN_RATE) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENV})
        deadline = time.monotonic() + 10  # churning since startup; the first edits may lag the health check
        while not sb.churn()["edits"] and time.monotonic() < deadline:
            time.sleep(0.05)
        paused = sb.churn(0)
        assert paused["previous_rate"] == CHURN_RATE and paused["edits"] > 0
        edits = paused["edits"]
        cursor = sync_tenant(cfg, "demo").cursor
        assert_exact(cfg, sb.export("demo"))
        for _ in range(CYCLES):
            sb.churn(CHURN_RATE)
            time.sleep(CHURN_SECONDS)
            paused = sb.churn(0)
            assert paused["previous_rate"] == CHURN_RATE
            round_edits, edits = paused["edits"] - edits, paused["edits"]
            export = sb.export("demo")
            assert stale(cfg, export)["voucherlist"], "churn changed no voucher"
            figures.append({"edits": round_edits, **incremental_sync(sb, cfg, export, cursor)})
            cursor = figures[-1]["cursor"]
        # quiet afterwards: list calls only, no rows
        sb.reset_stats()
        quiet = sync_tenant(cfg, "demo", reconcile=False)
        assert sb.tenant_stats("demo")["requests"] == list_cost(export, cursor)
        assert not quiet.rows.get("voucherlist") and not quiet.rows.get("contacts")
    for n, f in enumerate(figures, 1):
        print(f"round {n}: {f}")


def test_an_edit_racing_a_multi_page_listing_is_caught_up(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small") as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENV})
        listed = sorted(sb.export("demo")["voucherlist"], key=lambda e: (e["voucherDate"], e["id"]))
        assert len(listed) > 250  # two pages, sorted by voucher date
        early = next(e for e in listed[:250] if e["voucherType"] == "purchaseinvoice")
        late = next(e for e in reversed(listed) if e["voucherType"] == "purchaseinvoice")

        class RacedClient(LexwareClient):
            """Lets the other user edit exactly between the first and second voucherlist page."""

            def get(self, path, params=None):
                if path == "/v1/voucherlist" and (params or {}).get("page") == 1 and not raced:
                    raced.append(sb.edit("demo", "vouchers", early["id"], changes={"remark": "früh"}))
                    raced.append(sb.edit("demo", "vouchers", late["id"], changes={"remark": "spät"}))
                return super().get(path, params)

        raced: list[dict] = []
        sync_tenant(cfg, "demo", client=RacedClient(cfg.tenant("demo")))
        assert len(raced) == 2
        sync_tenant(cfg, "demo", reconcile=True)
        assert_exact(cfg, sb.export("demo"))


def test_edits_either_side_of_berlin_midnight_are_each_loaded_once(tmp_path, monkeypatch):
    """The voucherlist filter takes whole Berlin days: a run re-reads the Berlin day of its low-water
    mark, emits only what changed since (re-read rows are de-duplicated by id and updatedDate), and
    once the mark is past midnight it asks from the new Berlin day (which is still the old UTC day)."""
    monkeypatch.setenv(ENV, KEY)
    berlin = ZoneInfo("Europe/Berlin")
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small") as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENV})
        bills = [e["id"] for e in sb.export("demo")["voucherlist"] if e["voucherType"] == "purchaseinvoice"]
        asked: list[str] = []

        class Recording(LexwareClient):
            def get(self, path, params=None):
                if path == "/v1/voucherlist" and "updatedDateFrom" in (params or {}):  # not sepadebit
                    asked.append(params["updatedDateFrom"])
                return super().get(path, params)

        def sync(edited: str | None = None) -> set[str]:
            """An incremental run: asserts it loaded just the one edited voucher (or nothing); returns
            the updatedDateFrom days it asked the voucherlist for."""
            asked.clear()
            result = sync_tenant(cfg, "demo", reconcile=False, client=Recording(cfg.tenant("demo")))
            assert result.rows.get("voucherlist", 0) == (edited is not None)
            assert_exact(cfg, sb.export("demo"))  # the edit is loaded, nothing twice
            return set(asked)

        sync_tenant(cfg, "demo")
        sb.clock(datetime(2026, 11, 3, 23, 59, 54, tzinfo=berlin))
        edit = sb.edit("demo", "vouchers", bills[0], changes={"remark": "vor Mitternacht"})
        assert edit["updatedDate"].startswith("2026-11-03T23:59")
        assert sync(bills[0]) == {"2026-11-02"}  # the mark is still at the seed data's last change
        while sb.clock() < datetime(2026, 11, 4, tzinfo=berlin):
            time.sleep(0.05)
        edit = sb.edit("demo", "vouchers", bills[1], changes={"remark": "nach Mitternacht"})
        assert edit["updatedDate"].startswith("2026-11-04T00:0")
        assert sync(bills[1]) == {"2026-11-03"}  # the mark is just before midnight: that day is re-read
        sb.clock(datetime(2026, 11, 4, 0, 30, tzinfo=berlin))  # 23:30 UTC on the 3rd
        sb.edit("demo", "vouchers", bills[2], changes={"remark": "halb eins"})
        assert sync(bills[2]) == {"2026-11-03"}
        assert sync() == {"2026-11-04"}  # the mark is 00:29:5x Berlin: the 4th, not the UTC day (3rd)


def test_a_live_row_skipped_by_a_delete_during_the_scan_is_not_flagged(tmp_path, monkeypatch):
    """A draft deleted while the list is paged shifts the rows behind it up a page: one live row is never
    listed, yet the row count adds up. It becomes a deletion candidate, but its detail GET answers, so it
    stays live; the draft (listed before it went) is flagged by the next scan, after its GET's 404."""
    monkeypatch.setenv(ENV, KEY)
    with start_sandbox(tenants={"demo": KEY}, rate_limit=1000, size="small") as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENV})
        export = sb.export("demo")
        oldest = min(e["voucherDate"] for e in export["voucherlist"])
        customer = next(c["id"] for c in export["contacts"] if "customer" in c["roles"])
        day = oldest[:10] + "T00:00:00.000+01:00"
        draft = {
            "voucherDate": day,
            "address": {"contactId": customer},
            "totalPrice": {"currency": "EUR"},
            "lineItems": [
                {
                    "type": "custom",
                    "name": "Alt",
                    "quantity": 1,
                    "unitName": "Stück",
                    "unitPrice": {"currency": "EUR", "netAmount": 10, "taxRatePercentage": 19},
                }
            ],
            "taxConditions": {"taxType": "net"},
            "shippingConditions": {"shippingType": "service", "shippingDate": day},
        }
        with LexwareClient(cfg.tenant("demo")) as api:  # a draft on the first page of the list
            draft_id = api.post("/v1/invoices", json=draft)["id"]
        sync_tenant(cfg, "demo")
        listed = sorted(sb.export("demo")["voucherlist"], key=lambda e: (e["voucherDate"], e["id"]))
        assert draft_id in [e["id"] for e in listed[:250]] and len(listed) > 251
        skipped = listed[250]  # moves up to the already-read first page when the draft goes
        seen: set[str] = set()

        class RacedClient(LexwareClient):
            def get(self, path, params=None):
                if path == "/v1/voucherlist" and (params or {}).get("page") == 1 and not raced:
                    raced.append(sb.edit("demo", "invoices", draft_id, action="delete"))
                body = super().get(path, params)
                if path == "/v1/voucherlist":
                    seen.update(e["id"] for e in body["content"])
                return body

        raced: list = []
        result = sync_tenant(cfg, "demo", reconcile=True, client=RacedClient(cfg.tenant("demo")))
        assert raced and skipped["id"] not in seen and draft_id in seen  # the scan missed a live row
        assert result.flagged_deleted == {}  # the missed row answered its GET; the draft was listed
        assert not rows(cfg, "voucherlist", "demo", deleted=True)
        assert skipped["id"] in rows(cfg, "voucherlist", "demo")
        sb.reset_stats()
        result = sync_tenant(cfg, "demo", reconcile=True)  # the next scan finds the draft gone
        assert result.flagged_deleted == {"voucherlist": 1, "invoices": 1}
        assert sb.tenant_stats("demo")["by_endpoint"]["GET /v1/invoices/{id}"] == 1  # its 404
        assert rows(cfg, "voucherlist", "demo", deleted=True).keys() == {draft_id}
        assert_exact(cfg, sb.export("demo"))
