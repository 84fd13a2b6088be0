"""A colleague who saves a record in Lexware while Kontor is between its GET and its PUT.

A tiny HTTP proxy in front of one sandbox: it forwards every request unchanged, except that the first
PUT to an armed record is preceded by an edit "as another user" through the sandbox operator API. The
PUT then carries a stale `version`, so Lexware refuses it and the write-back job has to refetch and
retry, exactly as it would against the real API.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from sandbox.process import SandboxProcess

HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive", "content-encoding"}


class Colleague:
    """Proxy for `sandbox`; `arm(tenant, resource, id, changes)` schedules one interleaved edit."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox
        self.upstream = httpx.Client(base_url=sandbox.base_url, timeout=60)
        self.armed: dict[str, tuple[str, str, str, dict]] = {}  # path -> (tenant, resource, id, changes)
        self.edits: list[dict] = []  # what the colleague saved, for the summary
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Colleague:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()

    def arm(self, tenant: str, resource: str, record_id: str, changes: dict) -> None:
        """Before Kontor's first PUT to /v1/<resource>/<record_id>, save `changes` as another user."""
        with self._lock:
            self.armed[f"/v1/{resource}/{record_id}"] = (tenant, resource, record_id, changes)

    def _before(self, method: str, path: str) -> None:
        if method != "PUT":
            return
        with self._lock:
            edit = self.armed.pop(path.split("?", 1)[0], None)
        if edit:
            tenant, resource, record_id, changes = edit
            saved = self.sandbox.edit(tenant, resource, record_id, changes)
            self.edits.append(
                {"tenant": tenant, "path": path, "changes": changes, "version": saved.get("version")}
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        colleague = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                colleague._before(self.command, self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                resp = colleague.upstream.request(self.command, self.path, content=body, headers=headers)
                self.send_response(resp.status_code)
                for key, value in resp.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        return Handler
