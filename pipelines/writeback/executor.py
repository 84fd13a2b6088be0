"""Applying corrections: GET -> compare with the expected old value -> merge -> PUT with `version`.

Per correction:
1. validate (bad rows are ``rejected`` with a reason and cause no request);
2. GET the record; if the field already holds the new value -> ``applied`` without a write (this is
   how a run that was killed after its PUT is finished: exactly once); if it holds neither the
   expected old value nor the new one -> ``conflict`` (someone else changed that field; never
   overwritten); if it holds the old value but the correction is ``in_flight`` and the record's
   version moved past the one our unconfirmed PUT was based on -> ``conflict`` too (the PUT may
   have landed and been set back by someone else; only an unmoved version proves it did not land);
3. record the intent (``in_flight`` + the version we build on), PUT the full record with the change;
4. on a version conflict (409, or 406 naming `version` on contacts: refused, so back to ``pending``)
   refetch, re-check, re-apply and retry with bounded, jittered backoff; past the bound -> ``gave_up``.
   If an earlier attempt of that PUT went unanswered (5xx, timeout) it may have landed: the correction
   stays ``in_flight`` and the next read decides; a record that moved by exactly our write is audited
   ``landed_unconfirmed`` then ``confirmed``;
5. record ``applied`` with the new version. Every attempt is a row in ``writeback.audit``.

A dry run does steps 1-2 only and reports each change as a before/after diff.

That is Lexware's guarantee (``version_checked``). Each source system declares its own: corrections of
a tenant whose ``system`` is sevdesk go to `pipelines.writeback.sevdesk` (``compare_before_write``:
sevDesk has no version). Every audit row names the guarantee its write had.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import (
    LexwareError,
    NotFoundError,
    TenantBindingError,
    ValidationError,
    VersionConflictError,
)
from pipelines.writeback.fields import locate
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
from pipelines.writeback.paths import PathError, get_path, set_path
from pipelines.writeback.payloads import NotUpdatable, check_updatable, put_body
from pipelines.writeback.store import WritebackStore, now
from pipelines.writeback.validation import InvalidValue, ValidCorrection, comparable, validate

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # PUTs per correction while version conflicts keep coming
BACKOFF_INITIAL = 0.2  # seconds; random exponential backoff between conflict retries
BACKOFF_MAX = 5.0

WOULD_APPLY = "would_apply"  # dry-run verdict
GUARANTEE = "version_checked"  # Lexware: every PUT carries the version it is based on (stale -> 409)


@dataclass
class Hooks:
    """Observation points around the PUT (tests interleave concurrent edits or kill the job here)."""

    before_put: Callable[[ValidCorrection, int], None] | None = None  # (correction, attempt)
    after_put: Callable[[ValidCorrection, dict[str, Any]], None] | None = None  # (correction, action result)


@dataclass
class Outcome:
    """What happened to one correction in this run (or, in a dry run, what would happen)."""

    correction: Correction
    status: str
    reason: str | None = None
    path: str | None = None  # Lexware JSON path
    resource: str | None = None  # /v1/<resource>/<id>
    before: Any = None
    after: Any = None
    version_before: int | None = None
    version_after: int | None = None
    attempts: int = 0
    written: bool = False  # did this run's PUT change the source?
    blocked: bool = False  # not tried: the tenant's key answers for another organisation

    def diff(self) -> str:
        """A readable before/after block."""
        c = self.correction
        head = f"#{c.id} {c.tenant} {c.entity} {c.record_id} {c.field}"
        if self.path:
            head += f" ({self.path}, version {self.version_before})"
        lines = [head]
        if self.path:
            lines += [f"  - {self.before!r}", f"  + {self.after!r}"]
        lines.append(f"  => {self.status}" + (f": {self.reason}" if self.reason else ""))
        return "\n".join(lines)


@dataclass
class RunReport:
    dry_run: bool
    run_id: str
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    @property
    def blocked(self) -> dict[str, str]:
        """tenant -> why its corrections were not tried (tenant binding); they stay open."""
        return {o.correction.tenant: o.reason or "" for o in self.outcomes if o.blocked}

    @property
    def conflicts_retried(self) -> int:
        return sum(max(0, o.attempts - 1) for o in self.outcomes)

    def touched(self) -> dict[str, dict[str, dict[str, int | None]]]:
        """tenant -> resource -> remote id -> version, for every record this run found or left applied."""
        out: dict[str, dict[str, dict[str, int | None]]] = {}
        for o in self.outcomes:
            if o.status == APPLIED and o.resource:
                *_, resource, remote_id = o.resource.split("/")
                out.setdefault(o.correction.tenant, {}).setdefault(resource, {})[remote_id] = o.version_after
        return out

    def render(self) -> str:
        return "\n".join(o.diff() for o in self.outcomes) or "no open corrections"


class SourceWriter(Protocol):
    """How one source system applies (or plans) a correction; built per correction from the executor
    (its store, clients, retry bound, hooks). Lexware's is the executor itself (`version_checked`)."""

    def process(self, correction: Correction, *, dry_run: bool = False) -> Outcome: ...


def _sevdesk_writer(executor: CorrectionExecutor) -> SourceWriter:
    from pipelines.writeback.sevdesk import SevdeskWriter

    return SevdeskWriter(executor)


# tenant `system` -> its writer; systems not listed are Lexware (this module)
WRITERS: dict[str, Callable[[CorrectionExecutor], SourceWriter]] = {"sevdesk": _sevdesk_writer}


class CorrectionExecutor:
    """Applies (or plans) the open corrections of a warehouse, one at a time, in id order."""

    def __init__(
        self,
        store: WritebackStore,
        client_for: Callable[[str], LexwareClient],
        *,
        known_tenants: set[str] | None = None,
        run_id: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        hooks: Hooks | None = None,
        systems: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.systems = systems or {}  # tenant -> source system (default lexware)
        self.client_for = client_for
        self.known_tenants = known_tenants
        self.run_id = run_id or f"adhoc-{uuid.uuid4().hex[:12]}"
        self.max_attempts = max_attempts
        self.wait = wait_random_exponential(multiplier=backoff_initial, max=backoff_max)
        self.hooks = hooks or Hooks()

    def run(
        self, *, dry_run: bool = False, tenant: str | None = None, ids: list[int] | None = None
    ) -> RunReport:
        report = RunReport(dry_run=dry_run, run_id=self.run_id)
        for correction in self.store.open_corrections(tenant=tenant, ids=ids):
            outcome = self.process(correction, dry_run=dry_run)
            log.info(
                "correction %s: %s%s",
                correction.id,
                outcome.status,
                f" ({outcome.reason})" if outcome.reason else "",
            )
            report.outcomes.append(outcome)
        return report

    # -- one correction ---------------------------------------------------------------------------
    def process(self, correction: Correction, *, dry_run: bool = False) -> Outcome:
        writer = WRITERS.get(self.systems.get(str(correction.tenant), "lexware"))
        if writer is not None:
            return writer(self).process(correction, dry_run=dry_run)
        started = now()
        try:
            vc = validate(correction, self.known_tenants)
        except InvalidValue as exc:
            outcome = Outcome(correction, REJECTED, str(exc))
            if not dry_run:
                self.store.set_status(correction.stored_id, REJECTED, str(exc), run_id=self.run_id)
            self.audit(outcome, "validate", started, detail=str(exc))
            return outcome
        owners = self.store.record_tenants(vc.entity.resource, vc.remote_id)
        if owners and correction.tenant not in owners:
            reason = (
                f"record {vc.remote_id} is a {vc.entity.resource[:-1]} of tenant {owners[0]!r}, not of "
                f"{correction.tenant!r} (raw_lexware.{vc.entity.resource}); record the correction "
                "for the tenant it belongs to"
            )
            outcome = Outcome(correction, REJECTED, reason, resource=vc.resource_path)
            if not dry_run:
                self.store.set_status(correction.stored_id, REJECTED, reason, run_id=self.run_id)
            self.audit(outcome, "validate", started, detail=reason)
            return outcome
        blocked = self._blocked(vc, dry_run)
        if blocked is not None:
            return blocked
        if dry_run:
            return self._plan(vc)
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.max_attempts),
                wait=self.wait,
                retry=retry_if_exception_type(VersionConflictError),
                reraise=True,
            ):
                with attempt:
                    return self._attempt(vc, attempt.retry_state.attempt_number)
        except VersionConflictError:
            if correction.status == IN_FLIGHT:  # the last PUT may have landed (an attempt went unanswered)
                return self._finish(
                    vc,
                    Outcome(
                        correction,
                        IN_FLIGHT,
                        "write unconfirmed (a version conflict after an unanswered "
                        "attempt); the next run checks the source and finishes it",
                        attempts=self.max_attempts,
                        resource=vc.resource_path,
                        path=vc.field.path,
                    ),
                )
            reason = (
                f"gave up after {self.max_attempts} attempts: every PUT hit a version conflict "
                "(the record kept changing); the source is unchanged - set status back to 'pending' "
                "to try again"
            )
            return self._finish(
                vc,
                Outcome(
                    correction,
                    GAVE_UP,
                    reason,
                    attempts=self.max_attempts,
                    resource=vc.resource_path,
                    path=vc.field.path,
                ),
            )
        raise AssertionError("unreachable")

    def _blocked(self, vc: ValidCorrection, dry_run: bool) -> Outcome | None:
        """The tenant's client, bound to its organisation; if the key answers for another one, the
        correction stays open (pending / in_flight) with the reason, and nothing is read or written."""
        started = now()
        try:
            self.client_for(vc.correction.tenant)
        except TenantBindingError as exc:
            c = vc.correction
            outcome = Outcome(
                c, c.status, str(exc), resource=vc.resource_path, path=vc.field.path, blocked=True
            )
            if not dry_run:
                self.store.set_status(c.stored_id, c.status, str(exc), run_id=self.run_id)
            self.audit(outcome, "bind", started, detail=str(exc))
            return outcome
        return None

    def _read(self, vc: ValidCorrection, outcome: Outcome) -> dict[str, Any] | None:
        """GET the record into ``outcome``; None (with outcome status/reason set) when it cannot be read."""
        started = now()
        try:
            doc = self.client_for(vc.correction.tenant).get(vc.resource_path)
        except LexwareError as exc:
            gone = isinstance(exc, NotFoundError)
            outcome.status = FAILED
            outcome.reason = self._not_found(vc) if gone else f"could not read the record: {exc}"
            if vc.correction.status == IN_FLIGHT and not gone:
                outcome.status = IN_FLIGHT  # an earlier PUT may have landed: decide on the next run
                outcome.reason += "; an earlier write is unconfirmed, the next run checks the source again"
            self.audit(outcome, "get", started, http_status=exc.status, detail=str(exc))
            return None
        if not isinstance(doc, dict):
            outcome.status, outcome.reason = FAILED, "the API returned something other than a record"
            return None
        outcome.version_before = doc.get("version")
        return doc

    def _not_found(self, vc: ValidCorrection) -> str:
        """Why a 404: a record Kontor synced for this tenant was deleted; any other id is unknown here."""
        c = vc.correction
        if c.tenant in self.store.record_tenants(vc.entity.resource, vc.remote_id):
            return "the record no longer exists in Lexware Office (404)"
        return (
            f"Lexware Office has no {vc.entity.resource[:-1]} {vc.remote_id} in tenant {c.tenant!r}'s "
            f"organisation (404), and Kontor never synced one with this id: check record_id"
        )

    def _judge(self, vc: ValidCorrection, doc: dict[str, Any], outcome: Outcome) -> bool:
        """Compare the record with the correction; sets the outcome and returns True if a PUT is due."""
        spec, c = vc.field, vc.correction
        outcome.after = vc.new_value
        if spec.requires and not isinstance(doc.get(spec.requires), dict):
            other = "person" if spec.requires == "company" else "company"
            outcome.status = REJECTED
            outcome.reason = f"{spec.name} applies to {spec.requires} contacts only; this one is a {other}"
            return False
        try:
            outcome.path = locate(spec, doc)
            outcome.before = get_path(doc, outcome.path)
        except PathError as exc:
            outcome.status, outcome.reason = REJECTED, f"cannot correct {spec.name}: {exc}"
            return False
        current = comparable(spec, outcome.before)
        if current == comparable(spec, vc.new_value):
            outcome.status = APPLIED
            outcome.version_after = outcome.version_before
            outcome.reason = (
                "the source already holds the new value (our earlier, interrupted write "
                "landed); not written again"
                if c.status == IN_FLIGHT
                else "the source already holds the new value; nothing written"
            )
            return False
        if current != comparable(spec, vc.expected_old_value):
            outcome.status = CONFLICT
            outcome.reason = (
                f"{spec.name} is now {outcome.before!r}, not the expected "
                f"{vc.expected_old_value!r}: someone else changed it; not overwritten"
            )
            return False
        if c.status == IN_FLIGHT and not _unchanged_since(c.version_before, outcome.version_before):
            # ABA: our unconfirmed PUT may have landed and someone set the old value back since
            outcome.status = CONFLICT
            outcome.reason = (
                f"{spec.name} holds the expected old value again, but the record changed "
                f"(version {c.version_before} -> {outcome.version_before}) since our "
                "unconfirmed write: it may have landed and been undone by someone else; "
                "not written again"
            )
            return False
        try:
            check_updatable(vc.entity.resource, doc)
        except NotUpdatable as exc:
            outcome.status, outcome.reason = FAILED, str(exc)
            return False
        return True

    def _plan(self, vc: ValidCorrection) -> Outcome:
        started = now()
        outcome = Outcome(vc.correction, WOULD_APPLY, resource=vc.resource_path, path=vc.field.path)
        doc = self._read(vc, outcome)
        if doc is not None and self._judge(vc, doc, outcome):
            outcome.reason = None
        self.audit(
            outcome,
            "plan",
            started,
            http_status=200 if doc is not None else None,
            detail=f"{outcome.before!r} -> {outcome.after!r}",
        )
        return outcome

    def _attempt(self, vc: ValidCorrection, attempt: int) -> Outcome:
        c = vc.correction
        outcome = Outcome(c, FAILED, attempts=attempt, resource=vc.resource_path, path=vc.field.path)
        doc = self._read(vc, outcome)
        if doc is None or not self._judge(vc, doc, outcome):
            if doc is not None and self._landed(vc, outcome):
                return self._finish(vc, outcome)
            if doc is not None:
                self.audit(outcome, "check", now(), http_status=200, detail=outcome.reason)
            return self._finish(vc, outcome)
        body = put_body(vc.entity.resource, doc)
        set_path(body, outcome.path or vc.field.path, vc.new_value)
        # the intent, durable before the request: an interrupted run is resolved by the next one
        self.store.set_status(
            c.stored_id,
            IN_FLIGHT,
            None,
            run_id=self.run_id,
            version_before=outcome.version_before,
            attempts=attempt,
        )
        c.status, c.version_before = IN_FLIGHT, outcome.version_before
        if self.hooks.before_put:
            self.hooks.before_put(vc, attempt)
        started = now()
        try:
            result = self.client_for(c.tenant).put(vc.resource_path, body)
        except VersionConflictError as exc:
            outcome.status = "version_conflict"
            if exc.after_unanswered:  # an earlier attempt went unanswered: it may have landed
                self.audit(
                    outcome,
                    "put",
                    started,
                    http_status=exc.status,
                    detail=f"version conflict after an unanswered attempt ({exc.after_unanswered}): "
                    "that attempt may have landed; refetch and check",
                )
                raise  # stays in_flight: the next read tells whether our write landed
            self.audit(
                outcome,
                "put",
                started,
                http_status=exc.status,
                detail="version conflict: refetch, re-check, retry",
            )
            # refused, so nothing landed: the retry (or the next run) judges it as pending again
            self.store.set_status(c.stored_id, PENDING, None, run_id=self.run_id)
            c.status = PENDING
            raise
        except ValidationError as exc:
            outcome.status, outcome.reason = FAILED, f"Lexware Office refused the change: {exc}"
            self.audit(outcome, "put", started, http_status=exc.status, detail=str(exc))
            return self._finish(vc, outcome)
        except LexwareError as exc:
            outcome.status = IN_FLIGHT
            outcome.reason = f"write unconfirmed ({exc}); the next run checks the source and finishes it"
            self.audit(outcome, "put", started, http_status=exc.status, detail=str(exc))
            return self._finish(vc, outcome)
        if self.hooks.after_put:
            self.hooks.after_put(vc, result)
        outcome.status, outcome.written = APPLIED, True
        outcome.version_after = result.get("version") if isinstance(result, dict) else None
        if attempt > 1:
            outcome.reason = f"applied after {attempt - 1} version conflict(s); the other changes were kept"
        self.audit(outcome, "put", started, http_status=200)
        return self._finish(vc, outcome)

    def _landed(self, vc: ValidCorrection, outcome: Outcome) -> bool:
        """An unconfirmed PUT of ours (answer lost, or the run died after it) that the record shows moved
        by exactly our write: the source holds our value at the version after the one we built on.
        Audited as `landed_unconfirmed` (that write's versions) then `confirmed`, so the trail accounts
        for every version the correction caused."""
        c = vc.correction
        based_on = c.version_before
        if not (
            outcome.status == APPLIED
            and c.status == IN_FLIGHT
            and based_on is not None
            and outcome.version_before == based_on + 1
        ):
            return False
        started = now()
        outcome.written, outcome.version_after = True, outcome.version_before
        outcome.reason = (
            f"our earlier, interrupted write landed (its answer was lost): the record moved "
            f"by exactly that write, version {based_on} -> {outcome.version_before}; "
            "confirmed, not written again"
        )
        landed = Outcome(
            c,
            "landed_unconfirmed",
            resource=outcome.resource,
            path=outcome.path,
            version_before=based_on,
            version_after=outcome.version_before,
            attempts=outcome.attempts,
        )
        self.audit(
            landed,
            "put",
            started,
            detail=f"{vc.expected_old_value!r} -> {vc.new_value!r}: "
            "the PUT was performed although no answer confirmed it",
        )
        checked = Outcome(
            c,
            "confirmed",
            resource=outcome.resource,
            path=outcome.path,
            version_before=outcome.version_before,
            version_after=outcome.version_before,
            attempts=outcome.attempts,
        )
        self.audit(checked, "check", now(), http_status=200, detail=outcome.reason)
        return True

    def _finish(self, vc: ValidCorrection, outcome: Outcome) -> Outcome:
        self.record_status(vc.correction, outcome)
        if outcome.status == GAVE_UP:
            self.audit(outcome, "give_up", now(), detail=outcome.reason)
        return outcome

    def record_status(self, correction: Correction, outcome: Outcome) -> None:
        """Store the correction's status after this run's attempt (and the version it applied)."""
        self.store.set_status(
            correction.stored_id,
            outcome.status,
            outcome.reason,
            run_id=self.run_id,
            version_before=outcome.version_before,
            applied_version=outcome.version_after if outcome.status == APPLIED else None,
            attempts=outcome.attempts or None,
        )

    def audit(
        self,
        outcome: Outcome,
        action: str,
        started: datetime,
        *,
        http_status: int | None = None,
        detail: str | None = None,
        guarantee: str = GUARANTEE,
    ) -> None:
        """One row of `writeback.audit` for a step of this run (`guarantee`: how the write was protected)."""
        c = outcome.correction
        self.store.audit(
            tenant=str(c.tenant or ""),
            resource=outcome.resource or f"correction:{c.id}",
            action=action,
            outcome=outcome.status,
            started_at=started,
            correction_id=c.id,
            run_id=self.run_id,
            attempt=outcome.attempts or None,
            version_before=outcome.version_before,
            version_after=outcome.version_after,
            http_status=http_status,
            detail=detail,
            guarantee=guarantee,
        )


def _unchanged_since(recorded: int | None, current: int | None) -> bool:
    """Has the record provably kept the version an unconfirmed PUT was based on (so it did not land)?"""
    return recorded is not None and current is not None and current <= recorded
