"""Write-back to sevDesk: the same corrections, a weaker guarantee (``compare_before_write``).

sevDesk has no version, no ETag and no 409 on a stale write (reference §6.3); its records carry only
``update``, a timestamp of second resolution. Per correction:

1. validate against the sevDesk field map below (bad rows are ``rejected`` and cause no request);
2. GET the record; the field already holds the new value -> ``applied`` without a write; an enshrined
   (GoBD-locked) or non-draft document -> ``rejected`` with the reason and no write; the field holds
   neither the expected old value nor the new one -> ``conflict``; an ``in_flight`` correction whose
   record's ``update`` moved since our unconfirmed write -> ``conflict`` (it may have landed and been
   undone);
3. record the intent (``in_flight`` + the ``update`` we judged), re-read right before writing and
   compare ``update``: moved -> someone changed the record meanwhile, judge again (bounded, jittered
   backoff; past the bound -> ``gave_up``);
4. write: ``PUT /Contact/{id}`` with the one field (partial update); a voucher through
   ``saveVoucher`` with every position resent with its id (sevDesk recomputes the total from the
   positions of that call only, reference §6.2);
5. re-read to confirm: the field holds the new value -> ``applied`` (``applied_version`` = the new
   ``update`` as unix seconds). An error answer does not mean "not written" in sevDesk (§6.3), so
   after any failed write the record is re-read: landed -> ``applied``; provably not landed -> judged
   again (bounded; then ``failed``); unreadable -> stays ``in_flight`` for the next run.

What this cannot see, and every audit row says so (``guarantee = compare_before_write``): a change by
someone else between the last re-read and our write (one round trip), and two writes in one second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from pipelines.lexware.errors import LexwareError, NotFoundError, ValidationError
from pipelines.sevdesk import settings
from pipelines.writeback.fields import FieldSpec
from pipelines.writeback.model import (
    APPLIED,
    CONFLICT,
    FAILED,
    GAVE_UP,
    IN_FLIGHT,
    PENDING,
    REJECTED,
    Correction,
)
from pipelines.writeback.store import now
from pipelines.writeback.validation import InvalidValue, comparable, normalize_value

if TYPE_CHECKING:
    from pipelines.writeback.executor import CorrectionExecutor, Outcome

GUARANTEE = "compare_before_write"
CAVEAT = (
    "compare-before-write: sevDesk has no record version; a change by someone else between our "
    "last re-read and this write, or within the same second, cannot be detected"
)


@dataclass(frozen=True)
class SevEntity:
    """A correctable sevDesk entity: its model (path), raw table and writable fields (flat keys)."""

    name: str
    model: str  # Contact | Voucher
    table: str  # raw_sevdesk table
    fields: dict[str, FieldSpec]
    read_only: dict[str, str]


_NOT_HERE = "not corrected through sevDesk write-back"
CONTACT = SevEntity(
    "contact",
    "Contact",
    "contacts",
    {
        s.name: s
        for s in (
            FieldSpec("name", "name", "text", 255, nullable=False, requires="organisation"),
            FieldSpec("first_name", "surename", "text", 255, requires="person"),
            FieldSpec("last_name", "familyname", "text", 255, nullable=False, requires="person"),
            FieldSpec("vat_id", "vatNumber", "vat_id"),
            FieldSpec("tax_number", "taxNumber", "text", 30),
            FieldSpec("note", "description", "text", 1000),
        )
    },
    {
        "email": "e-mail addresses are separate CommunicationWay records in sevDesk; " + _NOT_HERE,
        "phone": "phone numbers are separate CommunicationWay records in sevDesk; " + _NOT_HERE,
        "customer_number": "customer numbers are " + _NOT_HERE,
        **{
            f"{kind}_{part}": "addresses are separate ContactAddress records in sevDesk; " + _NOT_HERE
            for kind in ("billing", "shipping")
            for part in ("supplement", "street", "postal_code", "city", "country_code")
        },
    },
)
VOUCHER = SevEntity(
    "voucher",
    "Voucher",
    "vouchers",
    {
        s.name: s
        for s in (
            FieldSpec("document_number", "description", "text", 255, nullable=False),  # the Belegnummer
            FieldSpec("issue_date", "voucherDate", "date", nullable=False),
            FieldSpec("due_date", "paymentDeadline", "date"),
            FieldSpec("service_date", "deliveryDate", "date"),
        )
    },
    {
        "status": "status changes through bookkeeping (bookAmount, resetToDraft), not through write-back",
        "posting_category_id": "booking accounts live on the positions; " + _NOT_HERE,
        "memo": "sevDesk vouchers have no remark field",
    },
)
ENTITIES = {"contact": CONTACT, "voucher": VOUCHER, "bill": VOUCHER}
NOT_WRITABLE = {
    "invoice": "sevDesk invoices are " + _NOT_HERE + " (numbered and sent documents are locked)",
    "credit_note": "sevDesk credit notes are " + _NOT_HERE,
    "payment": "payments are links to bank transactions in sevDesk; " + _NOT_HERE,
}
DRAFT_STATUS = {"Voucher": "50"}  # documents only drafts may change (reference §6.2)


class _Again(Exception):
    """Judge the correction again (the record changed meanwhile, or a failed write provably did not land)."""

    def __init__(self, reason: str, changed: bool) -> None:
        super().__init__(reason)
        self.reason, self.changed = reason, changed


@dataclass(frozen=True)
class SevCorrection:
    correction: Correction
    entity: SevEntity
    field: FieldSpec
    remote_id: str
    new_value: str | None
    expected_old_value: str | None

    @property
    def resource_path(self) -> str:
        return f"/{self.entity.model}/{self.remote_id}"


def parse_record_id(record_id: str, tenant: str) -> str:
    """sevDesk id from a CDM id ``sevdesk:<tenant>:<id>`` or a bare (numeric) sevDesk id."""
    rid = record_id.strip()
    if ":" in rid:
        parts = rid.split(":")
        if len(parts) != 3 or parts[0] != settings.SOURCE_SYSTEM:
            raise InvalidValue(
                f"record id {record_id!r} is neither a CDM id (sevdesk:<tenant>:<id>) nor a sevDesk id"
            )
        if parts[1] != tenant:
            raise InvalidValue(f"record id {record_id!r} belongs to tenant {parts[1]!r}, not {tenant!r}")
        rid = parts[2]
    if not rid.isdigit():
        raise InvalidValue(f"record id {record_id!r} is not a sevDesk id (a number)")
    return rid


def validate(c: Correction, known_tenants: set[str] | None = None) -> SevCorrection:
    """Resolve and check one correction of a sevDesk tenant; raises ``InvalidValue`` with the reason."""
    for name in ("tenant", "entity", "record_id", "field"):
        value = getattr(c, name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(
                f"{name} is missing" if value in (None, "") else f"{name} {value!r} is not text"
            )
    if known_tenants is not None and c.tenant not in known_tenants:
        raise InvalidValue(f"unknown tenant {c.tenant!r} (configured: {', '.join(sorted(known_tenants))})")
    name = c.entity.strip().lower().replace("-", "_").removesuffix("s")
    if name in NOT_WRITABLE:
        raise InvalidValue(f"entity {c.entity!r} is not writable: {NOT_WRITABLE[name]}")
    entity = ENTITIES.get(name)
    if entity is None:
        raise InvalidValue(
            f"unknown entity {c.entity!r} (writable in sevDesk: {', '.join(sorted(ENTITIES))})"
        )
    field_name = c.field.strip().lower()
    spec = entity.fields.get(field_name)
    if spec is None:
        why = entity.read_only.get(field_name)
        raise InvalidValue(
            f"field {c.field!r} of a sevDesk {entity.name} is not writable: {why}"
            if why
            else f"unknown field {c.field!r} for a sevDesk {entity.name} "
            f"(writable: {', '.join(sorted(entity.fields))})"
        )
    remote_id = parse_record_id(c.record_id, c.tenant)
    try:
        new_value = normalize_value(spec, c.new_value)
    except InvalidValue as exc:
        raise InvalidValue(str(exc).replace("Lexware Office", "sevDesk")) from None
    expected = c.expected_old_value
    expected = expected.isoformat() if isinstance(expected, date) else expected
    expected = None if expected in (None, "") else str(expected)
    if comparable(spec, new_value) == comparable(spec, expected):
        raise InvalidValue("new_value equals expected_old_value: nothing to correct")
    return SevCorrection(c, entity, spec, remote_id, new_value, expected)


def update_seconds(doc: dict[str, Any]) -> int | None:
    """The record's `update` timestamp as unix seconds: the closest thing to a version sevDesk has."""
    try:
        return int(datetime.fromisoformat(str(doc["update"])).timestamp())
    except (KeyError, TypeError, ValueError):
        return None


def _wire_date(value: str | None) -> str | None:
    """YYYY-MM-DD -> dd.mm.yyyy, the form sevDesk documents for document dates (reference §2.3)."""
    return None if value is None else f"{value[8:10]}.{value[5:7]}.{value[:4]}"


class SevdeskWriter:
    """Applies (or plans) one correction of a sevDesk tenant for a `CorrectionExecutor`."""

    def __init__(self, executor: CorrectionExecutor) -> None:
        self.x = executor
        self.store = executor.store

    def process(self, correction: Correction, *, dry_run: bool = False) -> Outcome:
        from pipelines.writeback.executor import WOULD_APPLY, Outcome

        started = now()
        try:
            sc = validate(correction, self.x.known_tenants)
        except InvalidValue as exc:
            return self._final(Outcome(correction, REJECTED, str(exc)), "validate", started, dry_run)
        owners = self.store.record_tenants(sc.entity.table, sc.remote_id, settings.DATASET)
        if owners and correction.tenant not in owners:
            reason = (
                f"record {sc.remote_id} is a {sc.entity.name} of tenant {owners[0]!r}, not of "
                f"{correction.tenant!r} ({settings.DATASET}.{sc.entity.table}); record the correction "
                "for the tenant it belongs to"
            )
            outcome = Outcome(correction, REJECTED, reason, resource=sc.resource_path)
            return self._final(outcome, "validate", started, dry_run)
        if dry_run:
            outcome = Outcome(correction, WOULD_APPLY, resource=sc.resource_path, path=sc.field.path)
            doc = self._read(sc, outcome)
            if doc is not None and self._judge(sc, doc, outcome):
                outcome.reason = None
            self._audit(
                outcome,
                "plan",
                started,
                http_status=200 if doc is not None else None,
                detail=f"{outcome.before!r} -> {outcome.after!r}",
            )
            return outcome
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.x.max_attempts),
                wait=self.x.wait,
                retry=retry_if_exception_type(_Again),
                reraise=True,
            ):
                with attempt:
                    return self._attempt(sc, attempt.retry_state.attempt_number)
        except _Again as exc:
            status = GAVE_UP if exc.changed else FAILED
            reason = (
                f"gave up after {self.x.max_attempts} attempts: {exc.reason}; the source is unchanged "
                "- set status back to 'pending' to try again"
            )
            outcome = Outcome(
                correction,
                status,
                reason,
                attempts=self.x.max_attempts,
                resource=sc.resource_path,
                path=sc.field.path,
            )
            return self._final(outcome, "give_up", now(), dry_run=False)
        raise AssertionError("unreachable")

    # -- steps ------------------------------------------------------------------------------------
    def _read(self, sc: SevCorrection, outcome: Outcome) -> dict[str, Any] | None:
        """GET the record into ``outcome``; None (outcome status/reason set) when it cannot be read."""
        started = now()
        try:
            objects = self._client(sc).objects(sc.resource_path)
        except LexwareError as exc:
            gone = isinstance(exc, NotFoundError)
            outcome.status = FAILED
            outcome.reason = (
                f"sevDesk has no {sc.entity.model} {sc.remote_id} (404)"
                if gone
                else f"could not read the record: {exc}"
            )
            if sc.correction.status == IN_FLIGHT and not gone:
                outcome.status = IN_FLIGHT
                outcome.reason += "; an earlier write is unconfirmed, the next run checks the source again"
            self._audit(outcome, "get", started, http_status=exc.status, detail=str(exc))
            return None
        doc = objects[0] if isinstance(objects, list) and objects and isinstance(objects[0], dict) else None
        if doc is None:
            outcome.status, outcome.reason = FAILED, "the API returned something other than a record"
            return None
        outcome.version_before = update_seconds(doc)
        return doc

    def _judge(self, sc: SevCorrection, doc: dict[str, Any], outcome: Outcome) -> bool:
        """Compare the record with the correction; sets the outcome and returns True if a write is due."""
        spec, c = sc.field, sc.correction
        outcome.after, outcome.path = sc.new_value, spec.path
        outcome.before = doc.get(spec.path)
        is_person = not doc.get("name") and bool(doc.get("surename") or doc.get("familyname"))
        if spec.requires and (spec.requires == "person") != is_person:
            kind = "person" if is_person else "organisation"
            outcome.status = REJECTED
            outcome.reason = f"{spec.name} applies to {spec.requires} contacts only; this one is an {kind}"
            return False
        current = comparable(spec, outcome.before)
        if current == comparable(spec, sc.new_value):
            outcome.status, outcome.version_after = APPLIED, outcome.version_before
            outcome.reason = (
                "the source already holds the new value (our earlier, interrupted write "
                "landed); not written again"
                if c.status == IN_FLIGHT
                else "the source already holds the new value; nothing written"
            )
            return False
        locked = self._locked(sc, doc)
        if locked:
            outcome.status, outcome.reason = REJECTED, locked
            return False
        if current != comparable(spec, sc.expected_old_value):
            outcome.status = CONFLICT
            outcome.reason = (
                f"{spec.name} is now {outcome.before!r}, not the expected "
                f"{sc.expected_old_value!r}: someone else changed it; not overwritten"
            )
            return False
        if c.status == IN_FLIGHT and (
            c.version_before is None
            or outcome.version_before is None
            or outcome.version_before > c.version_before
        ):
            outcome.status = CONFLICT
            outcome.reason = (
                f"{spec.name} holds the expected old value again, but the record changed "
                f"(update {c.version_before} -> {outcome.version_before}) since our unconfirmed "
                "write: it may have landed and been undone by someone else; not written again"
            )
            return False
        return True

    @staticmethod
    def _locked(sc: SevCorrection, doc: dict[str, Any]) -> str | None:
        """Why sevDesk will not let this document change (enshrined, or not a draft), else None."""
        model = sc.entity.model
        if doc.get("enshrined"):
            return (
                f"{model.lower()} {sc.remote_id} is enshrined (GoBD-locked since {doc['enshrined']}); "
                "sevDesk refuses every change - correct it with a cancellation in sevDesk"
            )
        draft = DRAFT_STATUS.get(model)
        if draft is not None and str(doc.get("status")) != draft:
            return (
                f"{model.lower()} {sc.remote_id} is not a draft (status {doc.get('status')}); sevDesk only "
                "lets the API change drafts - reset it to draft in sevDesk first"
            )
        return None

    def _attempt(self, sc: SevCorrection, attempt: int) -> Outcome:
        from pipelines.writeback.executor import Outcome

        c = sc.correction
        outcome = Outcome(c, FAILED, attempts=attempt, resource=sc.resource_path, path=sc.field.path)
        doc = self._read(sc, outcome)
        if doc is None or not self._judge(sc, doc, outcome):
            if doc is not None:
                self._audit(outcome, "check", now(), http_status=200, detail=outcome.reason)
            return self._finish(sc, outcome)
        judged = outcome.version_before
        self.store.set_status(
            c.stored_id, IN_FLIGHT, None, run_id=self.x.run_id, version_before=judged, attempts=attempt
        )
        c.status, c.version_before = IN_FLIGHT, judged
        if self.x.hooks.before_put:
            self.x.hooks.before_put(sc, attempt)  # type: ignore[arg-type]
        started = now()
        fresh = self._read(sc, outcome)  # compare right before the write
        if fresh is None:
            return self._finish(sc, outcome)
        if update_seconds(fresh) != judged or comparable(sc.field, fresh.get(sc.field.path)) != comparable(
            sc.field, outcome.before
        ):
            outcome.status = "changed_meanwhile"
            self._audit(
                outcome,
                "compare",
                started,
                http_status=200,
                detail=f"update {judged} -> {update_seconds(fresh)} since it was judged: judge again",
            )
            self._back_to_pending(c)
            raise _Again("the record kept changing while we prepared the write", changed=True)
        action, started = ("save" if sc.entity.model == "Voucher" else "put"), now()
        try:
            self._write(sc, fresh)
        except LexwareError as exc:
            return self._after_failed_write(sc, outcome, action, started, exc)
        if self.x.hooks.after_put:
            self.x.hooks.after_put(sc, fresh)  # type: ignore[arg-type]
        self._audit(outcome_copy(outcome, "written"), action, started, http_status=200, detail=CAVEAT)
        return self._confirm(sc, outcome, landed_despite=None)

    def _write(self, sc: SevCorrection, doc: dict[str, Any]) -> None:
        client, key, value = self._client(sc), sc.field.path, sc.new_value
        if sc.entity.model == "Contact":
            client.put(sc.resource_path, {key: value})
            return
        if sc.field.kind == "date":
            value = _wire_date(value)
        voucher = {
            "id": sc.remote_id,
            "objectName": "Voucher",
            "mapAll": True,
            "status": doc.get("status"),
            **{
                k: doc[k]
                for k in ("creditDebit", "voucherType", "taxRule", "taxType", "supplier", "supplierName")
                if doc.get(k) is not None
            },
            key: value,
        }
        positions = [
            row
            for rows, _ in client.pages(
                "/VoucherPos", {"voucher[id]": sc.remote_id, "voucher[objectName]": "Voucher"}
            )
            for row in rows
        ]
        client.post(
            "/Voucher/Factory/saveVoucher",
            {
                "voucher": voucher,
                "voucherPosSave": [_position(p) for p in positions],
                "voucherPosDelete": None,
            },
        )

    def _after_failed_write(
        self, sc: SevCorrection, outcome: Outcome, action: str, started: datetime, exc: LexwareError
    ) -> Outcome:
        """A failed write may have landed in sevDesk (§6.3): re-read before anything else."""
        self._audit(
            outcome_copy(outcome, "error"),
            action,
            started,
            http_status=exc.status,
            detail=f"{exc}; re-reading: an error answer does not prove sevDesk did not write",
        )
        check, reread = outcome_copy(outcome, FAILED), now()
        doc = self._read(sc, check)
        if doc is None:
            outcome.status = IN_FLIGHT
            outcome.reason = f"write unconfirmed ({exc}); the next run checks the source and finishes it"
            return self._finish(sc, outcome)
        landed = comparable(sc.field, doc.get(sc.field.path)) == comparable(sc.field, sc.new_value)
        self._audit(
            outcome_copy(check, "landed" if landed else "not_landed"),
            "reread",
            reread,
            http_status=200,
            detail=f"{sc.field.path} = {doc.get(sc.field.path)!r}, "
            f"update {update_seconds(doc)} (judged at {sc.correction.version_before})",
        )
        if landed:
            return self._confirm(sc, outcome, landed_despite=exc, doc=doc)
        if update_seconds(doc) != sc.correction.version_before:
            outcome.status = IN_FLIGHT
            outcome.reason = (
                f"write unconfirmed ({exc}) and the record changed meanwhile; the next run checks the source"
            )
            return self._finish(sc, outcome)
        self._back_to_pending(sc.correction)
        if isinstance(exc, ValidationError):
            outcome.status, outcome.reason = FAILED, f"sevDesk refused the change: {exc}"
            return self._finish(sc, outcome)
        raise _Again(f"every write failed ({exc}) and the re-read showed it did not land", changed=False)

    def _confirm(
        self,
        sc: SevCorrection,
        outcome: Outcome,
        *,
        landed_despite: LexwareError | None,
        doc: dict[str, Any] | None = None,
    ) -> Outcome:
        """Re-read (unless given) and check the field holds the new value: only then ``applied``."""
        started = now()
        check = outcome_copy(outcome, FAILED)
        doc = doc if doc is not None else self._read(sc, check)
        if doc is None:
            outcome.status = IN_FLIGHT
            outcome.reason = "written, but the confirming re-read failed; the next run checks the source"
            return self._finish(sc, outcome)
        holds = doc.get(sc.field.path)
        outcome.version_after = update_seconds(doc)
        if comparable(sc.field, holds) != comparable(sc.field, sc.new_value):
            outcome.status = CONFLICT
            outcome.reason = (
                f"written, but the re-read shows {sc.field.name} = {holds!r}: someone else "
                "changed it right after our write; left as it is"
            )
        else:
            outcome.status, outcome.written = APPLIED, True
            outcome.reason = (
                f"applied although the write answered with an error ({landed_despite}): the "
                "re-read shows the new value"
                if landed_despite
                else (f"applied after {outcome.attempts - 1} retries" if outcome.attempts > 1 else None)
            )
        self._audit(
            outcome_copy(outcome, "confirmed" if outcome.status == APPLIED else CONFLICT),
            "confirm",
            started,
            http_status=200,
            detail=f"re-read: {sc.field.path} = {holds!r}; {CAVEAT}",
        )
        return self._finish(sc, outcome)

    # -- bookkeeping ------------------------------------------------------------------------------
    def _client(self, sc: SevCorrection) -> Any:
        return self.x.client_for(sc.correction.tenant)

    def _back_to_pending(self, c: Correction) -> None:
        self.store.set_status(c.stored_id, PENDING, None, run_id=self.x.run_id)
        c.status = PENDING

    def _final(self, outcome: Outcome, action: str, started: datetime, dry_run: bool) -> Outcome:
        if not dry_run:
            self.store.set_status(
                outcome.correction.stored_id, outcome.status, outcome.reason, run_id=self.x.run_id
            )
        self._audit(outcome, action, started, detail=outcome.reason)
        return outcome

    def _finish(self, sc: SevCorrection, outcome: Outcome) -> Outcome:
        self.x.record_status(sc.correction, outcome)
        return outcome

    def _audit(
        self,
        outcome: Outcome,
        action: str,
        started: datetime,
        *,
        http_status: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.x.audit(outcome, action, started, http_status=http_status, detail=detail, guarantee=GUARANTEE)


def outcome_copy(outcome: Outcome, status: str) -> Outcome:
    """The outcome as it stood, with another status (for an audit row of an intermediate step)."""
    from dataclasses import replace

    return replace(outcome, status=status)


def _position(pos: dict[str, Any]) -> dict[str, Any]:
    """A voucher position resent unchanged with its id (sevDesk totals only the positions of the call)."""
    body = {"id": pos["id"], "objectName": "VoucherPos", "mapAll": True}
    account = "accountDatev" if pos.get("accountDatev") else "accountingType"
    return {
        **body,
        account: pos.get(account),
        **{
            k: pos[k]
            for k in ("taxRate", "net", "sumNet", "sumGross", "comment", "isAsset")
            if pos.get(k) is not None
        },
    }
