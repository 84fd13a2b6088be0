"""Multi-step operations as one resumable call, journaled in ``writeback.operations``.

``create_voucher_with_file``: create a bookkeeping voucher, upload its receipt, make sure the file is
linked. Each step is written to the journal *before* its request goes out and its result right after,
so a call that fails (or a process that dies) leaves a recorded state that the next call with the same
operation id resumes from:

    started -> creating -> voucher_created -> uploading -> file_attached -> completed   (or failed)

Lexware has no idempotency keys, so a creation whose answer was lost (5xx, timeout, killed process)
is never simply repeated: in state ``creating`` the voucher is first looked up by its voucherNumber
(voucherlist, exact match) and adopted if it exists; in state ``uploading`` the voucher's ``files`` are
checked before uploading again. Retried, the operation therefore never creates a second voucher.

Bill numbers are set by suppliers, so two suppliers' vouchers can share one (Lexware does not refuse
that). A voucher found by number is ours only if its list entry also matches what we sent: type,
contact (``contactId``; for the collective contact a null contactId and, if we sent one, the
``contactName``), voucherDate (the day) and totalGrossAmount (the entry's ``totalAmount``). Other
vouchers with the number are neither adopted nor a reason to refuse ours. The default operation id
names the supplier as well as the number for the same reason.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import (
    LexwareError,
    MalformedResponseError,
    RetriesExhaustedError,
    VersionConflictError,
)
from pipelines.lexware.helpers import calendar_day
from pipelines.writeback.payloads import put_body
from pipelines.writeback.store import WritebackStore, now

log = logging.getLogger(__name__)

KIND = "create_voucher_with_file"
MAX_ROUNDS = 4  # resume rounds inside one call when a step fails transiently
ROUND_PAUSE = 0.5  # seconds between rounds (the client already backed off on each request)


class OperationError(RuntimeError):
    """The operation cannot go on; the journal row says where it stopped and why."""


@dataclass(frozen=True)
class OperationResult:
    id: str
    status: str
    voucher_id: str | None
    file_id: str | None
    voucher_version: int | None
    resumed: bool  # did this call continue an earlier, unfinished one?


def _collective(voucher: dict[str, Any]) -> bool:
    """Is the voucher with the collective contact (Lexware then ignores any contactId)?"""
    return bool(voucher.get("useCollectiveContact")) or not voucher.get("contactId")


def supplier_key(voucher: dict[str, Any]) -> str:
    """Who the voucher is with: the contactId, or the collective contact (with its custom name, if any)."""
    if _collective(voucher):
        return "collective" + (f":{voucher['contactName']}" if voucher.get("contactName") else "")
    return str(voucher["contactId"])


def default_operation_id(tenant: str, voucher: dict[str, Any]) -> str:
    """The default journal key: one operation per tenant, supplier and voucher number."""
    return f"{KIND}:{tenant}:{supplier_key(voucher)}:{voucher['voucherNumber']}"


def _money(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def is_ours(entry: dict[str, Any], voucher: dict[str, Any]) -> bool:
    """Does a voucherlist entry with our number also match the fields that identify the voucher we send?"""
    if entry.get("voucherType") != voucher.get("type"):
        return False
    listed, sent = (str(d.get("voucherDate") or "") for d in (entry, voucher))
    if calendar_day(listed) != calendar_day(sent):
        return False  # the list gives a dateTime: its Berlin day is the day we sent
    if _money(entry.get("totalAmount")) != _money(voucher.get("totalGrossAmount")):
        return False
    if _collective(voucher):  # the list shows a null contactId for it
        name = voucher.get("contactName")
        return entry.get("contactId") is None and (not name or entry.get("contactName") == name)
    return bool(entry.get("contactId") == voucher["contactId"])


def request_digest(voucher: dict[str, Any], content: bytes) -> str:
    payload = json.dumps(voucher, sort_keys=True, separators=(",", ":")).encode() + b"\0" + content
    return hashlib.sha256(payload).hexdigest()


class CreateVoucherWithFile:
    """The operation for one tenant's client; `run` is safe to call again with the same arguments."""

    def __init__(
        self,
        store: WritebackStore,
        client: LexwareClient,
        *,
        run_id: str | None = None,
        max_rounds: int = MAX_ROUNDS,
        round_pause: float = ROUND_PAUSE,
    ) -> None:
        self.store = store
        self.client = client
        self.tenant = client.name
        self.run_id = run_id
        self.max_rounds = max_rounds
        self.round_pause = round_pause

    def run(
        self,
        voucher: dict[str, Any],
        file_name: str,
        content: bytes,
        *,
        content_type: str = "application/pdf",
        operation_id: str | None = None,
    ) -> OperationResult:
        number = voucher.get("voucherNumber")
        if not number or not voucher.get("type"):
            raise OperationError("the voucher needs a 'type' and a 'voucherNumber' (the retry lookup key)")
        op_id = operation_id or default_operation_id(self.tenant, voucher)
        digest = request_digest(voucher, content)
        journal = self.store.start_operation(op_id, self.tenant, KIND, number, digest)
        if journal["request_sha256"] != digest:
            raise OperationError(
                f"operation {op_id!r} was started with a different voucher or file; use a new operation id"
            )
        resumed = journal["status"] != "started"
        for round_no in range(1, self.max_rounds + 1):
            journal = self._journal(op_id)
            if journal["status"] == "completed":
                break
            try:
                self._advance(op_id, journal, voucher, file_name, content, content_type)
            except (RetriesExhaustedError, MalformedResponseError, VersionConflictError) as exc:
                # transient (a lookup GET included), or a creation that may have happened
                # (`PossiblyExecutedError`): the journal state tells the next round what to look up
                self.store.update_operation(op_id, error=str(exc))
                log.warning("operation %s round %d: %s", op_id, round_no, exc)
                if round_no == self.max_rounds:
                    raise OperationError(
                        f"operation {op_id!r} stopped in state {journal['status']!r} after "
                        f"{round_no} rounds: {exc}; call it again to resume"
                    ) from exc
                time.sleep(self.round_pause * round_no)
            except LexwareError as exc:
                self.store.update_operation(op_id, status="failed", error=str(exc))
                raise OperationError(f"operation {op_id!r} failed: {exc}") from exc
        journal = self._journal(op_id)
        return OperationResult(
            op_id,
            journal["status"],
            journal["voucher_id"],
            journal["file_id"],
            journal["voucher_version"],
            resumed,
        )

    def _journal(self, op_id: str) -> dict[str, Any]:
        """The journal row of an operation `run` has started."""
        journal = self.store.operation(op_id)
        if journal is None:
            raise OperationError(f"operation {op_id!r} has no journal row")
        return journal

    # -- the steps --------------------------------------------------------------------------------
    def _advance(
        self,
        op_id: str,
        journal: dict[str, Any],
        voucher: dict[str, Any],
        file_name: str,
        content: bytes,
        content_type: str,
    ) -> None:
        status, voucher_id, file_id = journal["status"], journal["voucher_id"], journal["file_id"]
        if status == "failed":
            raise OperationError(f"operation {op_id!r} failed earlier: {journal['error']}")
        if voucher_id is None:
            voucher_id = self._create(op_id, voucher, adopt=status == "creating")
        if file_id is None:
            file_id = self._upload(
                op_id, voucher_id, file_name, content, content_type, check_first=status == "uploading"
            )
        self._verify(op_id, voucher_id, file_id)

    def _create(self, op_id: str, voucher: dict[str, Any], *, adopt: bool) -> str:
        existing = self._lookup(op_id, voucher)
        if existing and not adopt:
            self.store.update_operation(
                op_id, status="failed", error=f"voucher number {voucher['voucherNumber']!r} already exists"
            )
            raise OperationError(
                f"a voucher numbered {voucher['voucherNumber']!r} with the same contact, date and total "
                f"already exists in Lexware Office (id {existing}); not creating a duplicate"
            )
        if existing:
            self.store.update_operation(op_id, status="voucher_created", voucher_id=existing, error=None)
            return existing
        self.store.update_operation(op_id, status="creating")  # durable before the POST goes out
        started = now()
        try:
            result = self.client.post("/v1/vouchers", json=voucher)
        except LexwareError as exc:
            self._audit(op_id, "/v1/vouchers", "post", "error", started, exc.status, str(exc))
            raise
        self._audit(
            op_id,
            "/v1/vouchers",
            "post",
            "created",
            started,
            201,
            result.get("id"),
            version_after=result.get("version"),
        )
        voucher_id: str = result["id"]
        self.store.update_operation(op_id, status="voucher_created", voucher_id=voucher_id, error=None)
        return voucher_id

    def _lookup(self, op_id: str, voucher: dict[str, Any]) -> str | None:
        """The id of our voucher: this voucherNumber (exact match) and the same contact, date and total."""
        started = now()
        number = html.escape(voucher["voucherNumber"], quote=False)  # Lexware wants &<> HTML-escaped
        entries = [
            v
            for v in self.client.paginate(
                "/v1/voucherlist",
                params={"voucherType": voucher["type"], "voucherStatus": "any", "voucherNumber": number},
            )
            if v.get("voucherNumber") == voucher["voucherNumber"]
        ]
        ours = [v["id"] for v in entries if is_ours(v, voucher)]
        others = [v["id"] for v in entries if v["id"] not in ours]
        detail = ", ".join(ours)
        if others:  # another supplier's bill (or another date/total) with the same number
            detail += f" (same number, not ours: {', '.join(others)})"
        self._audit(
            op_id,
            "/v1/voucherlist",
            "lookup",
            "found" if ours else "not_found",
            started,
            200,
            detail.strip() or None,
        )
        if len(ours) > 1:
            raise OperationError(
                f"{len(ours)} vouchers numbered {voucher['voucherNumber']!r} match the "
                f"contact, date and total: {ours}"
            )
        return ours[0] if ours else None

    def _upload(
        self,
        op_id: str,
        voucher_id: str,
        file_name: str,
        content: bytes,
        content_type: str,
        *,
        check_first: bool,
    ) -> str:
        path = f"/v1/vouchers/{voucher_id}/files"
        if check_first:  # an earlier upload may have landed without us hearing back
            files = self.client.get(f"/v1/vouchers/{voucher_id}").get("files") or []
            if files:
                attached: str = files[0]
                self.store.update_operation(op_id, status="file_attached", file_id=attached, error=None)
                return attached
        self.store.update_operation(op_id, status="uploading")
        started = now()
        try:
            result = self.client.post(path, files={"file": (file_name, content, content_type)})
        except LexwareError as exc:
            self._audit(op_id, path, "upload", "error", started, exc.status, str(exc))
            raise
        self._audit(op_id, path, "upload", "uploaded", started, 202, result.get("id"))
        file_id: str = result["id"]
        self.store.update_operation(op_id, status="file_attached", file_id=file_id, error=None)
        return file_id

    def _verify(self, op_id: str, voucher_id: str, file_id: str) -> None:
        """Check the link; if the file is not in the voucher's `files`, link it with a versioned PUT."""
        path = f"/v1/vouchers/{voucher_id}"
        started = now()
        doc = self.client.get(path)
        if file_id not in (doc.get("files") or []):
            body = put_body("vouchers", doc)
            body["files"] = [*(doc.get("files") or []), file_id]
            result = self.client.put(path, body)
            self._audit(
                op_id,
                path,
                "link",
                "linked",
                started,
                200,
                file_id,
                version_before=doc.get("version"),
                version_after=result.get("version"),
            )
            doc["version"] = result.get("version")
        self._audit(op_id, path, "verify", "completed", started, 200, version_after=doc.get("version"))
        self.store.update_operation(op_id, status="completed", voucher_version=doc.get("version"), error=None)

    def _audit(
        self,
        op_id: str,
        resource: str,
        action: str,
        outcome: str,
        started: datetime,
        http_status: int | None,
        detail: str | None = None,
        *,
        version_before: int | None = None,
        version_after: int | None = None,
    ) -> None:
        self.store.audit(
            tenant=self.tenant,
            resource=resource,
            action=action,
            outcome=outcome,
            started_at=started,
            operation_id=op_id,
            run_id=self.run_id,
            http_status=http_status,
            detail=detail,
            version_before=version_before,
            version_after=version_after,
        )
