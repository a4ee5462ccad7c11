"""A real local HTTP receiver for webhook tests (the edge of the world): a threaded ``http.server`` on
127.0.0.1 that records every request and answers by path, and, when given a secret, verifies the CloudOptima
signature with the product's own :func:`verify_signature` at its pinned ``now`` (401 when it fails).

Paths: ``/ok`` 200, ``/accepted`` 202, ``/busy`` 429 with ``Retry-After: 7``, ``/busy-date`` 429 with an
HTTP-date ``Retry-After``, ``/boom`` 500, ``/unavailable`` 503 with ``Retry-After: 30``, ``/bad`` 400
``invalid_payload``, ``/redirect`` 302 to ``/ok``, ``/flaky`` 500 on its first request and 200 after;
anything else 404."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudoptima.notifications.webhook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify_signature,
)

RETRY_AFTER_DATE = "Wed, 09 Dec 2026 10:00:00 GMT"
_ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/ok": (200, {}, b"ok"),
    "/accepted": (202, {}, b""),
    "/busy": (429, {"Retry-After": "7"}, b"rate_limited"),
    "/busy-date": (429, {"Retry-After": RETRY_AFTER_DATE}, b"rate_limited"),
    "/boom": (500, {}, b"internal error"),
    "/unavailable": (503, {"Retry-After": "30"}, b"maintenance"),
    "/bad": (400, {}, b"invalid_payload"),
    "/redirect": (302, {"Location": "/ok"}, b""),
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verification_error: str | None = None


@dataclass
class Receiver:
    """The running receiver: its base URL, what it recorded, and how it verifies."""

    base_url: str
    now: datetime
    secret: str | None = None
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, answer_headers, answer = _ANSWERS.get(self.path, (404, {}, b"no such hook"))
        if self.path == "/flaky":
            with receiver.lock:
                seen = any(r.path == "/flaky" for r in receiver.requests)
            status, answer_headers, answer = (200, {}, b"ok") if seen else (500, {}, b"internal error")
        error: str | None = None
        if receiver.secret is not None:
            try:
                verify_signature(
                    receiver.secret,
                    headers.get(TIMESTAMP_HEADER.lower(), ""),
                    body,
                    headers.get(SIGNATURE_HEADER.lower(), ""),
                    receiver.now,
                )
            except SignatureError as exc:
                error = str(exc)
                status, answer_headers, answer = 401, {}, b"bad signature"
        with receiver.lock:
            receiver.requests.append(Recorded("POST", self.path, headers, body, status, error))
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@contextmanager
def running_receiver(
    now: datetime, secret: str | None = None, tls_context: ssl.SSLContext | None = None
) -> Iterator[Receiver]:
    """Starts a receiver on a free port (over TLS with ``tls_context``) and stops it (closing its socket)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls_context is not None else "http"
    receiver = Receiver(base_url=f"{scheme}://127.0.0.1:{server.server_address[1]}", now=now, secret=secret)
    server.receiver = receiver
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
