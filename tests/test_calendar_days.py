"""Kontor derives calendar days of Lexware dateTimes in Europe/Berlin (not by cutting the string), in
the extraction helpers and the write-back (PUT bodies, change detection, voucher matching)."""

from __future__ import annotations

import pytest

from pipelines.lexware.helpers import calendar_day
from pipelines.writeback.fields import FieldSpec
from pipelines.writeback.operations import is_ours
from pipelines.writeback.payloads import put_body
from pipelines.writeback.validation import comparable


@pytest.mark.parametrize(
    "value, day",
    [
        ("2026-11-03T00:00:00.000+01:00", "2026-11-03"),  # as Lexware renders it
        ("2026-11-02T23:30:00.000Z", "2026-11-03"),  # the same Berlin day written in UTC
        ("2026-11-03T05:30:00.000+06:00", "2026-11-03"),
        ("2026-07-01T22:30:00.000Z", "2026-07-02"),  # summer time: +02:00
        ("2026-11-03", "2026-11-03"),
        ("kein Datum", "kein Datum"),  # unparsable text stays itself (compares unequal to any day)
    ],
)
def test_calendar_day_is_the_berlin_day(value, day):
    assert calendar_day(value) == day


def test_voucher_put_body_carries_the_berlin_day():
    voucher = {
        "id": "v",
        "version": 3,
        "voucherStatus": "open",
        "type": "purchaseinvoice",
        "voucherDate": "2026-11-02T23:30:00.000Z",
        "dueDate": "2026-11-16T00:00:00.000+01:00",
    }
    body = put_body("vouchers", voucher)
    assert body["voucherDate"] == "2026-11-03" and body["dueDate"] == "2026-11-16"
    assert "voucherStatus" not in body and body["version"] == 3


def test_date_corrections_compare_berlin_days():
    spec = FieldSpec("issue_date", "voucherDate", "date", nullable=False)
    assert comparable(spec, "2026-11-02T23:30:00.000Z") == comparable(spec, "2026-11-03") == "2026-11-03"


def test_a_listed_voucher_matches_the_day_we_sent_in_any_offset():
    sent = {
        "type": "purchaseinvoice",
        "voucherDate": "2026-11-03",
        "totalGrossAmount": 119.0,
        "useCollectiveContact": True,
    }
    listed = {
        "voucherType": "purchaseinvoice",
        "voucherDate": "2026-11-02T23:00:00.000Z",
        "totalAmount": 119.0,
        "contactId": None,
        "contactName": "Sammellieferant",
    }
    assert is_ours(listed, sent)
    assert not is_ours({**listed, "voucherDate": "2026-11-03T23:00:00.000Z"}, sent)  # 4 Nov in Berlin
