"""Webhooks end to end: the sandbox's real, signed deliveries reach the real receiver over loopback, are
stored durably, and a targeted event run (also launched by the Dagster sensor) brings the warehouse to the
sandbox's ground truth, deletions included, without a contact list scan."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from dagster import DagsterInstance, build_sensor_context

from assets.definitions import defs
from assets.events import _run_key, lexware_events_sensor
from assets.extraction import KontorConfigResource
from core.config import load_config
from core.warehouse import connect
from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.events import EventStore, ensure_subscriptions, open_event_store
from pipelines.lexware.sync import sync_events, sync_tenant
from sandbox.process import free_port, start_sandbox
from tests.extraction_helpers import assert_matches_export, count_rows, rows
from tests.services import postgres_database

ROOT = Path(__file__).resolve().parent.parent
KEY_ENV = "KONTOR_TEST_EVENTS_KEY"
KEY = "events-test-key"
# the real phase-1 schedule (10..160 s) compressed: a delivery is tried 8 times within ~12 s
RETRIES = "0.3,0.5,1,1,2,2,3"


def write_config(
    folder: Path, base_url: str, receiver_port: int, tenant: str = "demo", public_key: str | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kontor.yaml"
    path.write_text(
        f"warehouse: data/warehouse.duckdb\n"
        f"tenants:\n  - name: {tenant}\n    base_url: {base_url}\n    api_key_env: {KEY_ENV}\n    rps: 400\n"
        f"webhooks:\n  public_url: http://127.0.0.1:{receiver_port}\n"
        f"  public_key: {public_key or base_url + '/_sandbox/webhook-public-key'}\n"
    )
    return path


@contextlib.contextmanager
def receiver(config_path: Path, port: int) -> Iterator[Path]:
    """The real receiver (`python -m pipelines.lexware.receiver`) as a process; yields its log file."""
    log = Path(tempfile.mkstemp(prefix="receiver-", suffix=".log")[1])
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.lexware.receiver",
                "--config",
                str(config_path),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )
    try:
        wait_for(lambda: _healthy(port), "receiver up", timeout=60)
        yield log
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.unlink(missing_ok=True)


def _healthy(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    return False


def wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def deliveries(sb, url: str) -> list[dict]:
    return [d for d in sb.webhook_deliveries() if d["callbackUrl"] == url]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A sandbox with fast delivery retries, the receiver, a first sync and subscriptions in place."""
    os.environ[KEY_ENV] = KEY
    with start_sandbox(
        tenants={"demo": KEY}, rate_limit=1000, size="small", webhook_retry_seconds=RETRIES
    ) as sb:
        port = free_port()
        config = load_config(write_config(tmp_path_factory.mktemp("events"), sb.base_url, port))
        with receiver(config.path, port) as log:
            sync_tenant(config, "demo")
            yield sb, config, log


def client(config) -> LexwareClient:
    return LexwareClient(config.tenant("demo"))


def test_subscriptions_are_created_once_then_only_verified(env):
    sb, config, _ = env
    url = config.webhooks.callback_url("demo")
    with client(config) as c:
        first = ensure_subscriptions(c, url)
        sb.reset_stats()
        second = ensure_subscriptions(c, url)
        listed = c.get(settings.EVENT_SUBSCRIPTIONS_PATH)["content"]
    assert sorted(first.created) == sorted(settings.EVENT_TYPES)
    assert second.created == [] and sorted(second.kept) == sorted(settings.EVENT_TYPES)
    assert sorted(s["eventType"] for s in listed if s["callbackUrl"] == url) == sorted(settings.EVENT_TYPES)
    calls = sb.tenant_stats("demo")["by_endpoint"]
    assert "POST /v1/event-subscriptions" not in calls  # in place: one list request, no creation


def test_forged_or_unsigned_events_are_refused_and_change_nothing(env):
    sb, config, log = env
    store = EventStore(config.webhooks.store)
    contact = sb.export("demo")["contacts"][0]
    assert contact["id"] in rows(config, "contacts", "demo")
    body = json.dumps(
        {
            "organizationId": sb.export("demo")["organizationId"],
            "eventType": "contact.deleted",
            "resourceId": contact["id"],
            "eventDate": "2026-11-02T10:00:00.000+01:00",
        },
        separators=(",", ":"),
    ).encode()
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = base64.b64encode(forger.sign(body, padding.PKCS1v15(), hashes.SHA512())).decode()
    url = config.webhooks.callback_url("demo")
    headers = {"Content-Type": "application/json"}
    before = store.pending("demo")
    assert httpx.post(url, content=body, headers={**headers, "X-Lxo-Signature": forged}).status_code == 401
    assert httpx.post(url, content=body, headers=headers).status_code == 401
    assert (
        httpx.post(
            url, content=body, headers={**headers, "X-Lxo-Signature": "bm90IGEgc2lnbmF0dXJl"}
        ).status_code
        == 401
    )
    assert store.pending("demo") == before  # nothing stored
    text = log.read_text()
    assert "refused: bad signature" in text and "refused: unsigned" in text
    result = sync_events(config, "demo")
    assert result.events == len(before) and not result.flagged_deleted
    assert contact["id"] in rows(config, "contacts", "demo")  # still live


def test_410_removes_a_subscription_and_ensure_recreates_it(env, tmp_path):
    sb, config, _ = env
    port = free_port()
    # a receiver that does not know tenant `demo` answers 410 for it: Lexware drops the subscription
    other = write_config(tmp_path, sb.base_url, port, tenant="other")
    gone = f"http://127.0.0.1:{port}/lexware/demo"
    with receiver(other, port), client(config) as c:
        assert len(ensure_subscriptions(c, gone).created) == len(settings.EVENT_TYPES)
        contact = sb.export("demo")["contacts"][1]
        sb.edit("demo", "contacts", contact["id"], changes={"note": "410 test"})
        wait_for(lambda: any(d["status"] == 410 for d in deliveries(sb, gone)), "the 410 answer")
        subscribed = {
            s["eventType"]
            for s in c.get(settings.EVENT_SUBSCRIPTIONS_PATH)["content"]
            if s["callbackUrl"] == gone
        }
        assert "contact.changed" not in subscribed and len(subscribed) == len(settings.EVENT_TYPES) - 1
        assert [d["attempt"] for d in deliveries(sb, gone)] == [0]  # removed at once, never retried
        assert ensure_subscriptions(c, gone).created == ["contact.changed"]  # re-created
        # one public URL per deployment: subscribing `gone` replaced the real URL's subscriptions, and
        # subscribing the real URL again removes the outdated ones of this tenant
        back = ensure_subscriptions(c, config.webhooks.callback_url("demo"))
        assert len(back.removed) == len(back.created) == len(settings.EVENT_TYPES)


def test_deliveries_are_retried_until_the_receiver_accepts_them(env, tmp_path):
    sb, config, _ = env
    port = free_port()
    key_file = tmp_path / "lexware.pub"  # not there yet: the receiver answers 503, Lexware retries
    late = write_config(tmp_path, sb.base_url, port, public_key=str(key_file))
    url = f"http://127.0.0.1:{port}/lexware/demo"
    with receiver(late, port), client(config) as c:
        ensure_subscriptions(c, url)
        contact = sb.export("demo")["contacts"][2]
        sb.edit("demo", "contacts", contact["id"], changes={"note": "retry test"})
        wait_for(lambda: any(d["status"] == 503 for d in deliveries(sb, url)), "a 503 answer")
        key_file.write_text(sb.webhook_public_key())
        wait_for(lambda: any(d["status"] == 202 for d in deliveries(sb, url)), "the accepted retry")
        ensure_subscriptions(c, config.webhooks.callback_url("demo"))  # back to the real receiver only
    accepted = [d for d in deliveries(sb, url) if d["status"] == 202]
    assert accepted[0]["attempt"] >= 1
    stored = EventStore(load_config(late).webhooks.store).pending("demo")
    assert [(e.event_type, e.resource_id) for e in stored] == [("contact.changed", contact["id"])]


def test_a_persistently_failing_receiver_keeps_its_subscription(env, tmp_path):
    # 5xx (here: the signing key never becomes available) is retried, but only a 404/410 or an unreachable
    # host makes Lexware remove the subscription (reference §4.13)
    sb, config, _ = env
    port = free_port()
    broken = write_config(tmp_path, sb.base_url, port, public_key=str(tmp_path / "missing.pub"))
    url = f"http://127.0.0.1:{port}/lexware/demo"
    with receiver(broken, port), client(config) as c:
        ensure_subscriptions(c, url)
        sb.edit("demo", "contacts", sb.export("demo")["contacts"][6]["id"], changes={"note": "503"})
        attempts = len(RETRIES.split(",")) + 1
        wait_for(lambda: len(deliveries(sb, url)) == attempts, "every retry", timeout=120)
        assert {d["status"] for d in deliveries(sb, url)} == {503}
        listed = c.get(settings.EVENT_SUBSCRIPTIONS_PATH)["content"]
        assert "contact.changed" in {s["eventType"] for s in listed if s["callbackUrl"] == url}
        ensure_subscriptions(c, config.webhooks.callback_url("demo"))


def test_an_event_run_alone_matches_the_ground_truth_after_edits_deletes_and_payments(env):
    sb, config, _ = env
    store = EventStore(config.webhooks.store)
    sync_events(config, "demo")  # earlier tests' events
    # the edits made while the subscriptions pointed elsewhere sent no event to this receiver: the
    # safety net (the daily reconciliation, with its full contact scan) catches them
    sync_tenant(config, "demo", reconcile=True)
    assert_matches_export(config, sb.export("demo"), "demo")
    truth = sb.export("demo")
    contacts = truth["contacts"]
    invoices = {s: [i for i in truth["invoices"] if i["voucherStatus"] == s] for s in ("open", "draft")}
    bills = [v for v in truth["vouchers"] if v["voucherStatus"] == "open"]
    sb.edit("demo", "contacts", contacts[3]["id"], changes={"note": "per Webhook"})  # 1 event
    sb.edit("demo", "contacts", contacts[4]["id"], action="delete")  # 1
    sb.edit("demo", "invoices", invoices["open"][0]["id"], action="pay")  # 3: changed, status, payment
    sb.edit("demo", "invoices", invoices["open"][1]["id"], action="void")  # 2
    sb.edit("demo", "invoices", invoices["draft"][0]["id"], action="delete")  # 1
    sb.edit("demo", "vouchers", bills[0]["id"], changes={"amount": 1}, action="pay")  # 2: part payment
    sb.edit("demo", "vouchers", bills[1]["id"], changes={"remark": "per Webhook"})  # 1
    try:
        wait_for(lambda: len(store.pending("demo")) == 11, "11 stored events")
    except AssertionError:
        raise AssertionError(sorted(e.event_type for e in store.pending("demo"))) from None
    sb.reset_stats()
    result = sync_events(config, "demo")
    assert result.events == 11 and store.pending("demo") == []
    assert_matches_export(config, sb.export("demo"), "demo")  # deletions included: flagged, not live
    assert contacts[4]["id"] in rows(config, "contacts", "demo", deleted=True)
    assert invoices["draft"][0]["id"] in rows(config, "invoices", "demo", deleted=True)
    calls = sb.tenant_stats("demo")["by_endpoint"]
    assert "GET /v1/contacts" not in calls  # no contact list scan
    assert calls["GET /v1/contacts/{id}"] == 2  # exactly the two contacts the events named
    # the hourly poll afterwards loads nothing twice: no duplicate rows, no detail fetched again
    sb.reset_stats()
    poll = sync_tenant(config, "demo")
    assert "GET /v1/contacts" not in sb.tenant_stats("demo")["by_endpoint"]  # events carry contacts
    assert not {
        t: n for t, n in poll.rows.items() if t.split("__")[0] not in ("profile", "posting_categories")
    }
    assert all(count_rows(config, t)[0] == count_rows(config, t)[1] for t in ("contacts", "invoices"))
    assert_matches_export(config, sb.export("demo"), "demo")


def test_event_runs_keep_up_with_churn(env):
    """Any sequence: the sandbox's churn edits, pays, voids, creates and deletes for a while; event runs
    alone (no contact scan, no reconciliation) end equal to the ground truth."""
    sb, config, _ = env
    store = EventStore(config.webhooks.store)
    url = config.webhooks.callback_url("demo")
    sync_events(config, "demo")
    sb.churn(rate=8)
    time.sleep(2)
    sync_events(config, "demo")  # a run in the middle of the churn
    time.sleep(2)
    edits = sb.churn(rate=0)["edits"]
    assert edits > 5

    def settled() -> bool:  # every delivery so far accepted, and no new one for a second
        before = len(deliveries(sb, url))
        time.sleep(1)
        now = deliveries(sb, url)
        return len(now) == before and all(d["status"] == 202 for d in now)

    wait_for(settled, "the churn's deliveries")
    sb.reset_stats()
    sync_events(config, "demo")
    assert store.pending("demo") == []
    assert_matches_export(config, sb.export("demo"), "demo")
    assert "GET /v1/contacts" not in sb.tenant_stats("demo")["by_endpoint"]


def test_the_sensor_launches_a_targeted_run_in_a_real_dagster_instance(env, tmp_path, monkeypatch):
    sb, config, _ = env
    monkeypatch.setenv("KONTOR_CONFIG", str(config.path))
    store = EventStore(config.webhooks.store)
    sync_events(config, "demo")
    contact = sb.export("demo")["contacts"][5]
    sb.edit("demo", "contacts", contact["id"], changes={"note": "per Sensor"})
    wait_for(lambda: len(store.pending("demo")) == 1, "the stored event")
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        context = build_sensor_context(instance=instance, resources={"kontor": KontorConfigResource()})
        [request] = lexware_events_sensor(context)
        assert request.partition_key == "demo"
        run = defs.resolve_job_def("lexware_events").execute_in_process(
            run_config=request.run_config,
            partition_key=request.partition_key,
            instance=instance,
            tags=request.tags,
        )
        assert run.success
        materialized = {
            e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata
            for e in run.get_asset_materialization_events()
        }
    assert set(materialized) == {"contacts", *settings.VOUCHER_TABLES}
    assert materialized["contacts"]["events"].value == 1
    assert store.pending("demo") == []
    assert rows(config, "contacts", "demo")[contact["id"]] == next(
        c for c in sb.export("demo")["contacts"] if c["id"] == contact["id"]
    )
    assert (
        lexware_events_sensor(build_sensor_context(resources={"kontor": KontorConfigResource()})).skip_message
        == "no new events"
    )


def test_a_redelivery_is_stored_once_and_events_a_failed_run_left_get_another_run(tmp_path):
    store = EventStore(tmp_path / "events.sqlite")
    event = {
        "organizationId": "o",
        "eventType": "contact.changed",
        "resourceId": "c1",
        "eventDate": "2026-11-02T10:00:00.000+01:00",
    }
    assert store.add("demo", event) and not store.add("demo", event)  # Lexware retried the delivery
    newest, oldest = store.pending_tenants()["demo"]
    assert _run_key("demo", newest, oldest) == f"events-demo-{newest}"  # one run per batch
    stale = (datetime.now(UTC) - 2.5 * settings.EVENT_RETRY_AFTER).isoformat()
    assert _run_key("demo", newest, stale) == f"events-demo-{newest}-retry-2"  # its run failed: again


def test_with_a_postgres_warehouse_events_live_in_it_for_every_host(tmp_path):
    """`engine: postgres`: the receiver stores deliveries in `meta.webhook_events` of the warehouse (no
    SQLite file on the receiver's host), a redelivery once; an event run on another process reads them
    there, loads the named contact and marks them processed."""
    url_env = "KONTOR_TEST_EVENTS_PG_URL"
    with (
        postgres_database("events") as url,
        start_sandbox(
            tenants={"demo": KEY}, rate_limit=1000, size="small", webhook_retry_seconds=RETRIES
        ) as sb,
    ):
        os.environ[KEY_ENV], os.environ[url_env] = KEY, url
        port = free_port()
        path = write_config(tmp_path, sb.base_url, port)
        text = path.read_text().replace(
            "warehouse: data/warehouse.duckdb\n", f"warehouse:\n  engine: postgres\n  url_env: {url_env}\n"
        )
        path.write_text(text)
        config = load_config(path)
        with receiver(config.path, port):
            sync_tenant(config, "demo")
            with client(config) as c:
                ensure_subscriptions(c, config.webhooks.callback_url("demo"))
            store = open_event_store(config)
            contact = sb.export("demo")["contacts"][2]
            sb.edit("demo", "contacts", contact["id"], changes={"note": "per Webhook in PostgreSQL"})
            wait_for(lambda: len(store.pending("demo")) == 1, "the stored event")
            [event] = store.pending("demo")
            redelivery = {
                "organizationId": sb.export("demo")["organizationId"],
                "eventType": event.event_type,
                "resourceId": event.resource_id,
                "eventDate": event.event_date,
            }
            assert not store.add("demo", redelivery)  # stored once
            result = sync_events(config, "demo")
        with connect(config.warehouse) as con:
            stored = con.execute(
                "SELECT resource_id, processed_at IS NOT NULL FROM meta.webhook_events WHERE tenant = 'demo'"
            ).fetchall()
        assert stored == [(contact["id"], True)]
        assert not config.webhooks.store.exists()  # nothing on the receiver's disk
        assert result.events == 1 and store.pending("demo") == []
        assert rows(config, "contacts", "demo")[contact["id"]]["note"] == "per Webhook in PostgreSQL"
