"""Turning a fetched Lexware record into the body of a full-replace PUT, per resource.

Lexware PUT replaces the whole record, so we always send back what we fetched, changed in one field,
minus what the API refuses to see echoed. Records Lexware will not let the API update at all are
refused here with a reason, before any write is attempted.
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.lexware.helpers import calendar_day

# contacts: lists that may hold at most one entry for the API to accept an update (reference §4.2)
_SINGLE_ENTRY_LISTS = ("addresses.billing", "addresses.shipping", "company.contactPersons")
_VOUCHER_DATES = ("voucherDate", "dueDate", "shippingDate")
_VOUCHER_READ_ONLY = ("voucherStatus", "organizationId", "createdDate", "updatedDate")


class NotUpdatable(ValueError):
    """Lexware does not allow the API to update this record (the message says why)."""


def _lists(doc: dict[str, Any], path: str) -> list[Any]:
    node: Any = doc
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, list) else []


def check_updatable(resource: str, doc: dict[str, Any]) -> None:
    """Raise `NotUpdatable` for records Lexware refuses to update through the API."""
    if resource == "contacts":
        crowded = [p for p in _SINGLE_ENTRY_LISTS if len(_lists(doc, p)) > 1]
        for group in ("emailAddresses", "phoneNumbers"):
            crowded += [
                f"{group}.{k}"
                for k, v in (doc.get(group) or {}).items()
                if isinstance(v, list) and len(v) > 1
            ]
        if crowded:
            raise NotUpdatable(
                f"contact has several entries in {', '.join(crowded)}; Lexware Office refuses API updates "
                "of such contacts (406) - fix it in the Lexware app"
            )
    elif resource == "vouchers":
        status = doc.get("voucherStatus")
        if status in ("unchecked", "blank"):
            raise NotUpdatable(f"voucher is {status!r}; Lexware Office only allows finalising such vouchers")


def put_body(resource: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The fetched record prepared for a PUT (version kept; for vouchers `files` kept, status dropped)."""
    body = copy.deepcopy(doc)
    if resource == "vouchers":
        for key in _VOUCHER_READ_ONLY:
            body.pop(key, None)
        if body.get("contactId") and not body.get("useCollectiveContact"):
            body.pop("contactName", None)
        for key in _VOUCHER_DATES:  # read back as dateTime, written as yyyy-MM-dd (its Berlin day)
            if isinstance(body.get(key), str):
                body[key] = calendar_day(body[key])
    return body
