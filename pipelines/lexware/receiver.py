"""The event receiver: a small starlette app Lexware POSTs events to, one callback path per tenant
(`POST /lexware/<tenant>`). `python -m pipelines.lexware.receiver [--host H] [--port P]`; `make ui` starts
it beside Dagster (production: behind a reverse proxy with TLS, see docs/operations.md).

A delivery is accepted (202) only with a valid `X-Lxo-Signature` over the raw body; it is stored in the
event store and acknowledged at once (Lexware waits 5 s); a Dagster sensor turns stored events into runs.
Answers: 401 unsigned or badly signed (logged, nothing stored; Lexware retries 401, so events sent while
the key was misconfigured still arrive once it is fixed), 400 not an event, 410 unknown tenant (Lexware
then removes that subscription), 503 the signing key cannot be loaded or webhooks are not configured.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading

import uvicorn
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.config import KontorConfig, load_config
from pipelines.lexware.events import EVENT_FIELDS, load_public_key, open_event_store, signature_valid

log = logging.getLogger("kontor.receiver")
SIGNATURE_HEADER = "X-Lxo-Signature"


class _Key:
    """The signing key, loaded on first use and kept; a failed load is retried on the next request."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._key: RSAPublicKey | None = None
        self._lock = threading.Lock()

    def get(self) -> RSAPublicKey:
        with self._lock:
            if self._key is None:
                self._key = load_public_key(self.source)
            return self._key


def create_app(config: KontorConfig) -> Starlette:
    tenants = {t.name for t in config.tenants}
    hooks = config.webhooks
    store = open_event_store(config) if hooks else None
    key = _Key(hooks.public_key if hooks else None)

    async def receive(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        body = await request.body()  # the raw bytes: the signature is over them, not a re-serialisation
        if store is None:
            log.error("event for tenant %s refused: no `webhooks:` section in %s", tenant, config.path)
            return _error(503, "webhooks are not configured")
        if tenant not in tenants:
            log.warning(
                "event refused: unknown tenant %r (answering 410 so Lexware drops the subscription)", tenant
            )
            return _error(410, "unknown tenant")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            log.warning(
                "event for tenant %s refused: unsigned (no %s header); nothing stored",
                tenant,
                SIGNATURE_HEADER,
            )
            return _error(401, "missing signature")
        try:
            public_key = await run_in_threadpool(key.get)
        except Exception as exc:
            log.error(
                "event for tenant %s not accepted: cannot load the signing key from %s: %s",
                tenant,
                key.source or "Lexware",
                exc,
            )
            return _error(503, "signing key unavailable")
        if not signature_valid(public_key, body, signature):
            log.warning(
                "event for tenant %s refused: bad signature (%d bytes); nothing stored", tenant, len(body)
            )
            return _error(401, "bad signature")
        try:
            payload = json.loads(body)
            if not all(isinstance(payload.get(f), str) for f in EVENT_FIELDS):
                raise ValueError(f"expected the fields {', '.join(EVENT_FIELDS)}")
        except (ValueError, AttributeError) as exc:
            log.warning("event for tenant %s refused: signed but not an event (%s)", tenant, exc)
            return _error(400, "not an event")
        new = await run_in_threadpool(store.add, tenant, payload)
        log.info(
            "tenant %s: %s %s %s",
            tenant,
            payload["eventType"],
            payload["resourceId"],
            "stored" if new else "already stored (redelivery)",
        )
        return JSONResponse({"stored": new}, status_code=202)

    async def probe(request: Request) -> Response:
        """Lexware checks the callback URL with HEAD when a subscription is created."""
        return Response(status_code=200 if request.path_params["tenant"] in tenants else 404)

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True, "webhooks": hooks is not None})

    return Starlette(
        routes=[
            Route("/lexware/{tenant}", receive, methods=["POST"]),
            Route("/lexware/{tenant}", probe, methods=["HEAD"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.lexware.receiver",
        description="Receive signed Lexware events into the event store.",
    )
    parser.add_argument("--config", default=None, help="kontor.yaml (default: KONTOR_CONFIG or repo root)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(load_config(args.config)), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
