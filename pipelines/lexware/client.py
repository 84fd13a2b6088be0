"""The Lexware Office HTTP client, shared by extraction and write-back.

One `httpx.Client` (pooled, with timeouts) per tenant; every request first takes a token from the
tenant's cross-process rate budget (`core.ratelimit`, a model of the server's bucket that a 429
drains); one retry policy (tenacity: exponential
backoff with jitter, `Retry-After` honoured) covers 429, 5xx, timeouts, connection errors and malformed
bodies. POSTs are retried only where the request certainly was not executed (429, connection refused):
a 5xx, a timeout or a 2xx with a malformed body after a creation was sent raises `PossiblyExecutedError`
instead, because Lexware has no idempotency keys and a blind retry could create a duplicate.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from core.config import TenantConfig
from core.ratelimit import RateBudget, tenant_budget
from pipelines.lexware import settings
from pipelines.lexware.errors import (
    AuthError,
    LexwareError,
    MalformedResponseError,
    NotFoundError,
    NotInPlanError,
    PossiblyExecutedError,
    RetriesExhaustedError,
    UnreachableError,
    ValidationError,
    VersionConflictError,
)

log = logging.getLogger(__name__)


class _Transient(Exception):
    """A failure worth retrying; carries what the final error needs."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        retry_after: float | None = None,
        malformed: bool = False,
        sent: bool = True,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.malformed = malformed
        self.sent = sent


@dataclass
class ClientStats:
    """Counters of one client; thread-safe increments through `record`."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429s seen
    by_status: Counter[int | str] = field(default_factory=Counter)
    waited: float = 0.0  # seconds spent waiting for rate-limit tokens
    started: float | None = None
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    @property
    def effective_rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited_429": self.rate_limited,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items(), key=str)},
            "rate_wait_s": round(self.waited, 3),
            "elapsed_s": round(self.elapsed, 3),
            "effective_rps": round(self.effective_rps, 3),
        }


class LexwareClient:
    """Client for one tenant. Thread-safe; use `fetch_each` for bounded parallel detail fetches."""

    def __init__(
        self,
        tenant: TenantConfig,
        *,
        timeout: float = settings.READ_TIMEOUT,
        max_attempts: int = settings.MAX_ATTEMPTS,
        budget: RateBudget | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.tenant = tenant
        self.name = tenant.name
        self.max_in_flight = tenant.max_in_flight
        self.max_attempts = max_attempts
        self.budget = budget or tenant_budget(tenant)
        self.stats = ClientStats()
        self._lock = threading.Lock()
        self._profile: dict[str, Any] | NotInPlanError | None = None  # read once per client (see `profile`)
        self._http = httpx.Client(
            base_url=tenant.base_url,
            headers={"Authorization": f"Bearer {tenant.api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, settings.CONNECT_TIMEOUT)),
            limits=httpx.Limits(
                max_connections=tenant.max_in_flight + 2, max_keepalive_connections=tenant.max_in_flight + 2
            ),
            transport=transport,
        )

    # -- public interface (docs/architecture.md) -------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET and parse JSON; transient failures retried."""
        return self._call("GET", path, params=params)

    def put(self, path: str, json: dict[str, Any]) -> dict[str, Any]:
        """PUT a full record (with its current `version`); returns the action result."""
        result: dict[str, Any] = self._call("PUT", path, json=json)
        return result

    def post(
        self, path: str, json: dict[str, Any] | None = None, files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST a creation; retried only when it certainly was not executed (see module doc)."""
        result: dict[str, Any] = self._call("POST", path, json=json, files=files)
        return result

    def profile(self) -> dict[str, Any]:
        """GET /v1/profile once per client: the tenant-binding check and the `profile` resource share
        the answer (a 403 is remembered too), so binding costs no extra request."""
        if self._profile is None:
            try:
                body = self.get(settings.PROFILE_PATH)
            except NotInPlanError as exc:
                body = exc
            if not isinstance(body, NotInPlanError) and not (
                isinstance(body, dict) and isinstance(body.get("organizationId"), str)
            ):
                raise MalformedResponseError(self.name, f"GET {settings.PROFILE_PATH}: no organizationId")
            self._profile = body
        if isinstance(self._profile, NotInPlanError):
            raise self._profile
        return self._profile

    def delete(self, path: str) -> Any:
        """DELETE a record (idempotent at the source: retried like a GET)."""
        return self._call("DELETE", path)

    def pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        size: int = settings.PAGE_SIZE,
        start_page: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """The one paginator: yield page objects (`content`, `last`, `totalElements`, ...) in order."""
        page = start_page
        while True:
            body = self.get(path, params={**(params or {}), "page": page, "size": size})
            if not isinstance(body, dict) or not isinstance(body.get("content"), list):
                raise MalformedResponseError(self.name, f"GET {path}: expected a page object")
            yield body
            if body.get("last", True) or not body["content"]:
                return
            page += 1

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, size: int = settings.PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of every page."""
        for page in self.pages(path, params, size):
            yield from page["content"]

    def fetch_each(self, paths: Iterable[str]) -> Iterator[tuple[str, Any]]:
        """GET many paths with up to `max_in_flight` requests in flight; yield `(path, body)` in input
        order, where body is the parsed JSON or the `LexwareError` that ended that one call
        (`AuthError` is raised: nothing else could succeed either). Once a call is refused for the
        endpoint (401/402/403), the paths not yet started are not requested: they get that refusal."""
        paths = list(paths)
        if not paths:
            return
        refusal: list[LexwareError] = []

        def get(path: str) -> Any:
            if refusal:
                return refusal[0]
            result = self._get_or_error(path)
            if isinstance(result, AuthError | NotInPlanError):
                refusal.append(result)
            return result

        with ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix=f"lx-{self.name}") as pool:
            for path, result in zip(paths, pool.map(get, paths), strict=True):
                if isinstance(result, AuthError):
                    raise result
                yield path, result

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LexwareClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------
    def _get_or_error(self, path: str) -> Any:
        try:
            return self.get(path)
        except LexwareError as exc:
            return exc

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        unanswered: list[str] = []  # earlier attempts that were sent and got no answer (5xx, timeout)
        retrying = Retrying(
            # A POST that reached the server may have been executed: retried only if it certainly was not.
            retry=retry_if_exception(
                lambda e: isinstance(e, _Transient) and (method != "POST" or not e.sent)
            ),
            wait=_wait,
            stop=stop_after_attempt(self.max_attempts),
            before_sleep=self._before_retry(method, path, unanswered),
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, path, **kwargs)
        except LexwareError as exc:
            exc.after_unanswered = ", ".join(unanswered) or None
            raise
        except _Transient as exc:
            what = f"{method} {path}: {exc.reason}"
            if method == "POST" and exc.sent and exc.status != 429:  # 5xx, timeout, 2xx with a broken body
                raise PossiblyExecutedError(
                    self.name, f"{what}; not retried because the creation may have been executed", exc.status
                ) from None
            if exc.malformed:
                raise MalformedResponseError(
                    self.name, f"{what} (no valid body after retries)", exc.status
                ) from None
            raise RetriesExhaustedError(
                self.name, f"{what} (gave up after {self.max_attempts} attempts)", exc.status
            ) from None

    def _before_retry(
        self, method: str, path: str, unanswered: list[str]
    ) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.sent and exc.status != 429:
                unanswered.append(exc.reason)
            with self._lock:
                self.stats.retries += 1
            log.info("tenant %s: %s %s: %s; retry %d", self.name, method, path, exc, state.attempt_number)

        return before_sleep

    def _attempt(self, method: str, path: str, **kwargs: Any) -> Any:
        waited = self.budget.acquire()
        with self._lock:
            self.stats.requests += 1
            self.stats.waited += waited
            if self.stats.started is None:
                self.stats.started = time.monotonic()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            self._count("connect_error")
            if "refused" in str(exc).lower() and not self.stats.by_status.keys() - {"connect_error"}:
                raise _unreachable(self.tenant, method, path) from None  # first request: fail fast
            raise _Transient(f"connection failed ({exc.__class__.__name__})", sent=False) from None
        except httpx.TimeoutException as exc:
            self._count("timeout")
            raise _Transient("timed out", sent=not isinstance(exc, httpx.ConnectTimeout)) from None
        except httpx.TransportError as exc:
            self._count("transport_error")
            raise _Transient(f"connection error ({exc.__class__.__name__})") from None
        finally:
            with self._lock:
                self.stats.finished = time.monotonic()
        self._count(response.status_code)
        return self._handle(method, path, response)

    def _count(self, key: int | str) -> None:
        with self._lock:
            self.stats.by_status[key] += 1
            if key == 429:
                self.stats.rate_limited += 1

    def _handle(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 429:
            self.budget.rejected()
            raise _Transient("429 Too Many Requests", 429, _retry_after(response), sent=False)
        if status >= 500:
            raise _Transient(f"HTTP {status}", status)
        body = _parse(response)
        what = f"{method} {path}"
        if status == 401:
            raise AuthError(
                self.name,
                f"{what}: 401 Unauthorized - the API key is invalid or revoked "
                f"(check {self.tenant.api_key_env})",
                status,
            )
        if status in (402, 403):  # 402: "contract issue" (plan), 403: the key's scopes
            reason = "402 contract issue" if status == 402 else "403 Forbidden"
            raise NotInPlanError(
                self.name, f"{what}: {reason} - not in this tenant's plan/key scopes", status, body
            )
        if status == 404:
            raise NotFoundError(self.name, f"{what}: 404 Not Found", status, body)
        if status == 409 or (status == 406 and _names_version(body)):
            raise VersionConflictError(self.name, f"{what}: version conflict ({status})", status, body)
        if status in (400, 406):
            raise ValidationError(self.name, f"{what}: {status} {_message(body)}", status, body)
        if status >= 400:
            raise LexwareError(self.name, f"{what}: HTTP {status} {_message(body)}", status, body)
        if body is _MALFORMED:
            raise _Transient(f"malformed JSON body (HTTP {status})", status, malformed=True)
        return body


_MALFORMED = object()


def _unreachable(tenant: TenantConfig, method: str, path: str) -> UnreachableError:
    """Nothing listens at the tenant's base_url (refused before any answer): say where and what to do."""
    hint = (
        "start the sandbox with `make sandbox` (or `make demo-ui` after `make demo`)"
        if "127.0.0.1" in tenant.base_url or "localhost" in tenant.base_url
        else "check the tenant's base_url in kontor.yaml and the network"
    )
    return UnreachableError(
        tenant.name,
        f"{method} {path}: connection refused at {tenant.base_url}; nothing listens there: {hint}",
    )


def _parse(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return json.loads(response.content)
    except ValueError:
        return _MALFORMED


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _names_version(body: Any) -> bool:
    issues = body.get("IssueList") if isinstance(body, dict) else None
    return any(isinstance(i, dict) and i.get("source") == "version" for i in issues or [])


def _message(body: Any) -> str:
    if isinstance(body, dict):
        if body.get("message"):
            return str(body["message"])
        if body.get("IssueList"):
            return "; ".join(f"{i.get('source')}: {i.get('i18nKey')}" for i in body["IssueList"])
    return ""


_backoff = wait_exponential_jitter(
    multiplier=settings.BACKOFF_INITIAL, max=settings.BACKOFF_MAX, jitter=settings.BACKOFF_INITIAL
)


def _wait(state: RetryCallState) -> float:
    """Honour `Retry-After` on a 429 (plus a little jitter), else exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Transient) and exc.retry_after is not None:
        return exc.retry_after + _backoff(state) / 4
    return _backoff(state)
