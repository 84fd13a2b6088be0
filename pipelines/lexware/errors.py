"""Errors raised by the Lexware client. Messages name the tenant, never the API key."""

from __future__ import annotations


class LexwareError(Exception):
    """Base class: a Lexware call failed for `tenant`."""

    def __init__(self, tenant: str, message: str, status: int | None = None, body: object = None) -> None:
        super().__init__(f"tenant {tenant!r}: {message}")
        self.tenant = tenant
        self.status = status
        self.body = body
        # set by the client: an earlier attempt of this call was sent and went unanswered (5xx, timeout),
        # so a PUT refused now (e.g. a version conflict) may have been performed by that attempt
        self.after_unanswered: str | None = None


class AuthError(LexwareError):
    """401: the API key is invalid, revoked or missing. Never retried."""


class NotInPlanError(LexwareError):
    """402 or 403: this endpoint is not available to the tenant's contract, plan or key scopes."""


class NotFoundError(LexwareError):
    """404: the record does not exist (or no longer exists)."""


class VersionConflictError(LexwareError):
    """409, or 406 whose IssueList names `version`: someone changed the record meanwhile."""


class ValidationError(LexwareError):
    """400 / 406 (other than a version conflict): the request was refused as invalid."""


class MalformedResponseError(LexwareError):
    """The body was not valid JSON, and stayed so after the retries."""


class RetriesExhaustedError(LexwareError):
    """A transient failure (429, 5xx, timeout, connection error) persisted past the retry budget."""


class UnreachableError(RetriesExhaustedError):
    """The very first request of a client found nothing listening at `base_url` (connection refused):
    not retried, the message names the URL and the likely fix."""


class PossiblyExecutedError(RetriesExhaustedError):
    """A POST failed with 5xx/timeout after it was sent: the creation may have happened.

    Not retried (Lexware has no idempotency keys); look the record up before creating it again.
    """


class TenantBindingError(LexwareError):
    """The key answers for another Lexware organisation than the one the tenant is bound to (or for one
    bound to another tenant). Raised before any data request; nothing is read or written."""
