"""Sandbox behaviour that needs its own process: rate limit, plans, faults, churn, webhooks, persistence."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import re
import threading
import time
from collections import Counter

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from sandbox.lexware.cli import build_parser, config_from_args
from sandbox.lexware.seed import SIZES
from sandbox.process import start_sandbox

KEYS = {"demo": "key-a", "other": "key-b"}


def client(sb, tenant="demo", **kw):
    return httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.api_key(tenant)}"}, **kw)


def test_rate_limit_per_key_429_above_and_not_below():
    with start_sandbox(tenants=KEYS, rate_limit=2) as sb, client(sb) as a, client(sb, "other") as b:
        burst = [a.get("/v1/profile") for _ in range(4)]
        assert [r.status_code for r in burst[:2]] == [200, 200]
        assert burst[2].status_code == 429 and burst[2].json() == {"message": "Too Many Requests"}
        assert "retry-after" not in burst[2].headers
        assert [b.get("/v1/profile").status_code for _ in range(2)] == [200, 200]  # other key unaffected
        time.sleep(1.1)
        paced = []
        for _ in range(6):
            paced.append(a.get("/v1/profile").status_code)
            time.sleep(0.55)
        assert paced == [200] * 6
        stats = sb.stats()["tenants"]
        assert stats["demo"]["status"]["429"] == sum(r.status_code == 429 for r in burst)
        assert stats["demo"]["requests"] == 10 and "429" not in stats["other"]["status"]
        assert stats["demo"]["by_endpoint"] == {"GET /v1/profile": 10}
        sb.reset_stats()
        assert sb.stats()["tenants"] == {}


def test_retry_after_switch_and_plans():
    with (
        start_sandbox(
            "--plan", "demo=none", "--plan", "other=partner", tenants=KEYS, rate_limit=1, retry_after=True
        ) as sb,
        client(sb) as a,
        client(sb, "other") as b,
    ):
        assert a.get("/v1/profile").json() == {"message": "Forbidden"}
        assert a.get("/v1/profile").status_code == 403  # burst 2 at 1 rps
        limited = a.get("/v1/profile")
        assert limited.status_code == 429 and limited.headers.get("retry-after") == "1"
        assert b.get("/v1/organization").status_code == 200


def _statuses(sb, n):
    out = []
    with client(sb, timeout=5) as c:
        for _ in range(n):
            try:
                r = c.get("/v1/profile")
                try:
                    r.json()
                    out.append(str(r.status_code))
                except ValueError:
                    out.append("malformed")
            except httpx.HTTPError:
                out.append("reset")
    return out


def test_fault_rates_within_tolerance_and_reproducible():
    spec = "500=0.2,429=0.1,503=0.05,malformed=0.1,reset=0.05"
    with start_sandbox(tenants=KEYS, rate_limit=0, faults=spec, fault_seed=3) as sb:
        first = _statuses(sb, 400)
        assert sb.tenant_stats()["status"].get("reset") == first.count("reset")
    counts = Counter(first)
    for kind, p in (("500", 0.2), ("429", 0.1), ("503", 0.05), ("malformed", 0.1), ("reset", 0.05)):
        assert abs(counts[kind] / 400 - p) < 4 * (p * (1 - p) / 400) ** 0.5 + 0.01, (kind, counts)
    assert abs(counts["200"] / 400 - 0.5) < 0.1
    with start_sandbox(tenants=KEYS, rate_limit=0, faults=spec, fault_seed=3) as sb:
        assert _statuses(sb, 400) == first


def _interleaved_statuses(sb, tenants, n):
    """`n` rounds of one GET /v1/profile per tenant, in turn; the status codes per tenant."""
    out = {t: [] for t in tenants}
    clients = {t: client(sb, t, timeout=5) for t in tenants}
    try:
        for _ in range(n):
            for t, c in clients.items():
                out[t].append(str(c.get("/v1/profile").status_code))
    finally:
        for c in clients.values():
            c.close()
    return out


def test_per_tenant_sizes_and_faults_in_one_process():
    """Scoped --contacts/--vouchers/--faults change one tenant only; each tenant keeps its own seeded fault
    sequence, whatever the other tenant's traffic, and its own books equal a process of its own."""
    small = {"contacts": 60, "invoices": 200, "vouchers": 100, "credit_notes": 20}
    with start_sandbox(
        tenants=KEYS,
        rate_limit=0,
        contacts=["other=7"],
        vouchers=["other=9"],
        faults=["500=0.3", "other:429=0.5"],
        fault_seed=3,
    ) as sb:
        demo, other = sb.export("demo"), sb.export("other")
        shared = _interleaved_statuses(sb, ["demo", "other"], 300)
    assert {k: len(demo[k]) for k in small} == small  # the default size, untouched by `other=`
    assert {k: len(other[k]) for k in small} == {**small, "contacts": 7, "vouchers": 9}
    counts = {t: Counter(statuses) for t, statuses in shared.items()}
    assert set(counts["demo"]) == {"200", "500"} and set(counts["other"]) == {"200", "429"}
    for t, kind, p in (("demo", "500", 0.3), ("other", "429", 0.5)):
        assert abs(counts[t][kind] / 300 - p) < 4 * (p * (1 - p) / 300) ** 0.5 + 0.01, (t, counts)
    alone = {"other": "key-b"}
    with start_sandbox(
        tenants=alone, rate_limit=0, contacts=7, vouchers=9, faults="429=0.5", fault_seed=3
    ) as sb:
        assert sb.export("other") == other  # same seed and size -> same books, byte for byte
        assert _interleaved_statuses(sb, ["other"], 300)["other"] == shared["other"]


def test_scoped_size_options_most_specific_wins_and_bad_ones_are_refused():
    argv = ["serve", "--tenant", "a=k1", "--tenant", "b=k2", "--tenant", "c=k3", "--size", "medium"]
    argv += ["--contacts", "5", "--size", "a=large", "--contacts", "a=9", "--invoices", "b=3"]
    config = config_from_args(build_parser().parse_args(argv))
    counts = {t.name: vars(config.counts_for(t)) for t in config.tenants}
    assert counts["a"] == {**SIZES["large"], "contacts": 9}  # own size beats the all-tenant --contacts
    assert counts["b"] == {**SIZES["medium"], "contacts": 5, "invoices": 3}
    assert counts["c"] == {**SIZES["medium"], "contacts": 5}
    refused = {
        "--size=x=small": "--size: unknown tenant x",
        "--faults=x:429=0.1": "--faults: unknown tenant x",
        "--faults=a:429=2": "--faults a:429=2: fault probability out of range",
    }
    for bad, message in refused.items():
        with pytest.raises(SystemExit, match=re.escape(message)):
            config_from_args(build_parser().parse_args([*argv, bad]))


NEW_CONTACT = {"version": 0, "roles": {"vendor": {}}, "person": {"lastName": "Fehlerfrei"}}


@pytest.mark.parametrize(
    ("fault", "performed"), [("500", False), ("reset", False), ("504", True), ("malformed", True)]
)
def test_faulted_writes_are_all_or_nothing(fault, performed):
    with start_sandbox(tenants=KEYS, rate_limit=0, faults=f"{fault}=1") as sb, client(sb) as c:
        before = len(sb.export()["contacts"])
        with contextlib.suppress(httpx.HTTPError):
            c.post("/v1/contacts", json=NEW_CONTACT)
        assert len(sb.export()["contacts"]) == before + (1 if performed else 0)


def test_slow_fault_runs_past_the_client_timeout():
    with (
        start_sandbox(tenants=KEYS, rate_limit=0, faults="slow=1", slow_seconds=2) as sb,
        client(sb, timeout=0.5) as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.get("/v1/profile")


class Receiver:
    """A tiny webhook endpoint that records raw deliveries; fails the first `fail_first` POSTs with 500."""

    def __init__(self, fail_first: int = 0, status: int = 500) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.fail_first, self.fail_status = fail_first, status
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):
                self.send_response(200)
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                status = outer.fail_status if len(outer.received) <= outer.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= n, self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(fail_first=1)
    yield r
    r.close()


def test_webhook_subscription_delivery_signature_and_retry(receiver):
    with start_sandbox(tenants=KEYS, rate_limit=0, webhook_retry_seconds="0.2,0.2") as sb, client(sb) as c:
        r = c.post(
            "/v1/event-subscriptions", json={"eventType": "contact.changed", "callbackUrl": receiver.url}
        )
        assert r.status_code == 201 and r.json()["version"] == 0 and "Location" in r.headers
        sub_id = r.json()["id"]
        dup = c.post(
            "/v1/event-subscriptions", json={"eventType": "contact.changed", "callbackUrl": receiver.url}
        )
        assert dup.status_code == 409
        listed = c.get("/v1/event-subscriptions").json()
        assert list(listed) == ["content"] and listed["content"][0]["subscriptionId"] == sub_id
        assert c.get(f"/v1/event-subscriptions/{sub_id}").json()["eventType"] == "contact.changed"
        contact = sb.export()["contacts"][5]
        sb.edit("demo", "contacts", contact["id"], {"note": "webhook"})
        receiver.wait(2)  # first attempt answered 500, the retry succeeds
        headers, body = receiver.received[-1]
        assert body == receiver.received[0][1]
        payload = json.loads(body)
        assert set(payload) == {"organizationId", "eventType", "resourceId", "eventDate"}
        assert payload["eventType"] == "contact.changed" and payload["resourceId"] == contact["id"]
        assert payload["organizationId"] == sb.export()["organizationId"]
        key = serialization.load_pem_public_key(sb.webhook_public_key().encode())
        signature = base64.b64decode(headers["X-Lxo-Signature"])
        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA512())  # raises if the signature is wrong
        assert [d["status"] for d in sb.webhook_deliveries()] == [500, 200]
        assert c.delete(f"/v1/event-subscriptions/{sub_id}").status_code == 204
        assert c.get(f"/v1/event-subscriptions/{sub_id}").status_code == 404


def test_churn_bumps_versions_and_fires_webhooks():
    receiver = Receiver()
    try:
        with start_sandbox(tenants=KEYS, rate_limit=0, churn=40) as sb, client(sb) as c:
            for event in ("contact.changed", "payment.changed", "voucher.changed"):
                c.post("/v1/event-subscriptions", json={"eventType": event, "callbackUrl": receiver.url})
            before = sb.export()
            time.sleep(1.5)
            after = sb.export()
            receiver.wait(1)
    finally:
        receiver.close()
    old = {r["id"]: r for kind in ("contacts", "vouchers", "invoices") for r in before[kind]}
    bumped = [
        r
        for kind in ("contacts", "vouchers", "invoices")
        for r in after[kind]
        if r["id"] in old and r["version"] > old[r["id"]]["version"]
    ]
    assert len(bumped) >= 5
    for r in bumped:
        if "updatedDate" in r:
            assert r["updatedDate"] > old[r["id"]]["updatedDate"]
    events = {json.loads(b)["eventType"] for _, b in receiver.received}
    assert events <= {"contact.changed", "payment.changed", "voucher.changed"} and events


def test_churn_pauses_and_resumes_at_runtime():
    def books(sb):
        return {tenant: sb.export(tenant) for tenant in KEYS}

    with start_sandbox(tenants=KEYS, rate_limit=0, churn=60) as sb:
        time.sleep(0.6)
        paused = sb.churn(0)
        assert paused["previous_rate"] == 60 and paused["rate"] == 0
        assert paused["edits"] > 5 and paused["edits"] == sum(paused["by_action"].values())
        frozen = books(sb)
        time.sleep(0.5)  # ten churn intervals: nothing may move while paused, nothing half-applied
        assert books(sb) == frozen
        assert sb.churn() == {"rate": 0, "edits": paused["edits"], "by_action": paused["by_action"]}
        # bad requests are refused and leave the rate alone
        for body in ({"rate": -1}, {"rate": "fast"}, {"rate": True}, {}, [1]):
            r = sb.http.post("/_sandbox/churn", json=body)
            assert r.status_code == 400 and r.json()["error"].startswith("bad churn request"), body
        assert sb.churn()["rate"] == 0
        assert sb.churn(80)["previous_rate"] == 0
        time.sleep(0.5)
        resumed = sb.churn(0)
        assert resumed["previous_rate"] == 80 and resumed["edits"] > paused["edits"]
        assert books(sb) != frozen
    with start_sandbox(tenants=KEYS, rate_limit=0) as sb:  # started without --churn: off, can be turned on
        assert sb.churn() == {"rate": 0, "edits": 0, "by_action": {}}
        before = books(sb)
        assert sb.churn(50)["previous_rate"] == 0
        time.sleep(0.5)
        assert sb.churn(0)["edits"] > 0 and books(sb) != before


def test_state_persists_across_restarts(tmp_path):
    state = tmp_path / "books.json"
    with start_sandbox(tenants=KEYS, rate_limit=0, state=state) as sb, client(sb) as c:
        cid = c.post("/v1/contacts", json=NEW_CONTACT).json()["id"]
        first = sb.export()
    assert state.exists()
    with start_sandbox(tenants=KEYS, rate_limit=0, state=state) as sb, client(sb) as c:
        assert c.get(f"/v1/contacts/{cid}").json()["person"]["lastName"] == "Fehlerfrei"
        again = sb.export()
    assert again["contacts"] == first["contacts"] and again["invoices"] == first["invoices"]


def test_documented_409_for_stale_contact_versions():
    with start_sandbox(tenants=KEYS, rate_limit=0, stale_version_status=409) as sb, client(sb) as c:
        contact = next(x for x in sb.export()["contacts"] if len(x["addresses"]["billing"]) == 1)
        r = c.put(f"/v1/contacts/{contact['id']}", json={**contact, "version": contact["version"] - 1})
        assert r.status_code == 409 and r.json()["status"] == 409
        assert sb.tenant_stats()["status"]["409"] == 1
        assert c.get(f"/v1/contacts/{contact['id']}").json() == contact


@pytest.mark.parametrize(("status", "attempts"), [(410, 1), (404, 3)])
def test_gone_or_persistently_missing_callbacks_lose_their_subscription(status, attempts):
    receiver = Receiver(fail_first=100, status=status)
    try:
        with (
            start_sandbox(tenants=KEYS, rate_limit=0, webhook_retry_seconds="0.1,0.1") as sb,
            client(sb) as c,
        ):
            c.post(
                "/v1/event-subscriptions", json={"eventType": "invoice.changed", "callbackUrl": receiver.url}
            )
            invoice = sb.export()["invoices"][0]
            sb.edit("demo", "invoices", invoice["id"], {"remark": "x"})
            receiver.wait(attempts)
            deadline = time.monotonic() + 5
            while c.get("/v1/event-subscriptions").json()["content"] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert c.get("/v1/event-subscriptions").json() == {"content": []}
            assert len(receiver.received) == attempts
    finally:
        receiver.close()


def test_added_latency_is_applied():
    with start_sandbox(tenants=KEYS, rate_limit=0, latency_ms=200) as sb, client(sb) as c:
        started = time.perf_counter()
        for _ in range(5):
            c.get("/v1/profile")
        assert time.perf_counter() - started >= 5 * 0.1  # at least 50 % of the mean per request
    with start_sandbox(tenants=KEYS, rate_limit=0, latency_ms=200, latency_jitter=0.2) as sb, client(sb) as c:
        took = []
        for _ in range(5):
            started = time.perf_counter()
            c.get("/v1/profile")
            took.append(time.perf_counter() - started)
        assert min(took) >= 0.16  # 80-120 % of the mean


def test_clock_jumps_forward_only_and_stamps_edits():
    from datetime import datetime, timedelta

    with start_sandbox(tenants=KEYS, rate_limit=0) as sb:
        start = sb.clock()
        assert start.isoformat().startswith("2026-11-02T09:00")
        later = start + timedelta(days=3, hours=5)
        assert later <= sb.clock(later) < later + timedelta(seconds=5)
        voucher = sb.export()["vouchers"][0]
        edited = sb.edit("demo", "vouchers", voucher["id"], changes={"remark": "später"})
        assert later <= datetime.fromisoformat(edited["updatedDate"]) < later + timedelta(seconds=5)
        assert datetime.fromisoformat(voucher["updatedDate"]) < start  # seed data stays where it was
        for body in ({"now": start.isoformat()}, {"now": "2030-01-01T00:00:00"}, {"now": "soon"}, {}):
            r = sb.http.post("/_sandbox/clock", json=body)
            assert r.status_code == 400 and r.json()["error"].startswith("bad clock request"), body
        assert sb.clock() >= later


def test_deny_puts_one_endpoint_outside_one_key():
    with (
        start_sandbox(
            "--deny", "demo:/v1/payments", "--deny", "demo:/v1/vouchers=402", tenants=KEYS, rate_limit=0
        ) as sb,
        client(sb) as a,
        client(sb, "other") as b,
    ):
        voucher = sb.export()["vouchers"][0]["id"]
        r = a.get(f"/v1/payments/{voucher}")
        assert r.status_code == 403 and r.json() == {"message": "Forbidden"}
        r = a.get(f"/v1/vouchers/{voucher}")
        assert r.status_code == 402 and r.json()["message"] == "Action not accessible due to a contract issue"
        listing = a.get("/v1/voucherlist", params={"voucherType": "any", "voucherStatus": "any"})
        assert listing.status_code == 200
        assert a.get("/v1/vouchers-extra").status_code == 404  # a prefix only covers its own path
        other = sb.export("other")["vouchers"][0]["id"]
        assert b.get(f"/v1/vouchers/{other}").status_code == 200  # another key is not affected
