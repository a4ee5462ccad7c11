"""HTTPS plumbing of the fake Azure: token endpoint, bearer checks, api-version, paging, fault injection.

Strict like the real services: ARM routes need ``Authorization: Bearer <issued ARM token>`` (401
``InvalidAuthenticationToken`` otherwise) and an ``api-version`` query parameter (400
``MissingApiVersionParameter``); Graph routes need a Graph token. Faults (429 with ``Retry-After: 0``,
5xx) can be injected for the first N calls of a route. ``requests`` records every call for assertions.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import trustme

from cloudoptima_evals.fakes.azure.state import Client, FakeTenant

PAGE_SIZE = 2


@dataclass
class Fault:
    """Fail requests whose ``METHOD path`` matches ``pattern`` (regex) ``times`` times (None = always)."""

    pattern: str
    status: int
    code: str
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """The ARM error envelope."""
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


class FakeAzureServer:
    """Runs the fake on ``https://127.0.0.1:<free port>`` in a daemon thread."""

    def __init__(self, tenant: FakeTenant, cert_dir: Path) -> None:
        from cloudoptima_evals.fakes.azure.arm import ArmRoutes

        self.tenant = tenant
        self.tokens: dict[str, tuple[Client, str]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.routes = ArmRoutes(self)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = cert_dir / "fake-azure-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.base_url = f"https://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> FakeAzureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add_fault(self, fault: Fault) -> None:
        with self.tenant.lock:
            self.faults.append(fault)

    def count(self, method: str, pattern: str) -> int:
        """How many recorded requests ``METHOD path?query`` match ``pattern``."""
        return sum(1 for m, p in list(self.requests) if m == method and re.search(pattern, p))

    # -- request handling ----------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.requests.append((method, raw_path))
        token_match = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if token_match and method == "POST":
            return self._token(token_match.group(1), body)
        oidc = re.fullmatch(r"/([^/]+)/v2\.0/\.well-known/openid-configuration", path)
        if oidc and method == "GET":
            return self._openid(oidc.group(1))
        graph = path.startswith("/v1.0/")
        auth = headers.get("authorization", "")
        issued = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if issued is None or issued[1] != ("graph" if graph else "arm"):
            return error(401, "InvalidAuthenticationToken", "The access token is missing or invalid.")
        client = issued[0]
        if not graph and "api-version" not in query:
            return error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        fault = self._fault(f"{method} {path}")
        if fault is not None:
            return fault
        payload = json.loads(body) if body else None
        if graph:
            return self.routes.graph(client, path)
        return self.routes.arm(client, method, path, query, payload)

    def page(self, path: str, query: dict[str, str], items: list[Any]) -> Reply:
        """One page of a list with an absolute ``nextLink`` (page size :data:`PAGE_SIZE`)."""
        skip = int(query.get("$skiptoken", "0"))
        chunk = items[skip : skip + PAGE_SIZE]
        body: dict[str, Any] = {"value": chunk}
        if skip + PAGE_SIZE < len(items):
            next_query = dict(query, **{"$skiptoken": str(skip + PAGE_SIZE)})
            body["nextLink"] = f"{self.base_url}{path}?{urlencode(next_query)}"
        return Reply(200, body)

    def _fault(self, request_line: str) -> Reply | None:
        with self.tenant.lock:
            for fault in self.faults:
                if re.search(fault.pattern, request_line) and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return error(fault.status, fault.code, f"Injected {fault.code}.", dict(fault.headers))
        return None

    def _token(self, tenant: str, body: bytes) -> Reply:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if tenant != self.tenant.tenant_id:
            return Reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
            )
        client = self.tenant.clients.get(form.get("client_id", ""))
        if client is None:
            return Reply(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application with identifier was not found in the directory.",
                    "error_codes": [700016],
                },
            )
        if form.get("client_secret") != client.secret:
            return Reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID.",
                    "error_codes": [7000215],
                },
            )
        scope = form.get("scope", "")
        audience = "graph" if "graph.microsoft.com" in scope else "arm" if "management" in scope else ""
        if form.get("grant_type") != "client_credentials" or not audience:
            return Reply(400, {"error": "invalid_scope", "error_description": "AADSTS70011: invalid scope."})
        token = f"tok-{uuid.uuid4().hex}"
        self.tokens[token] = (client, audience)
        return Reply(
            200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        )

    def _openid(self, tenant: str) -> Reply:
        base = f"{self.base_url}/{tenant}"
        return Reply(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "response_types_supported": ["code", "token"],
            },
        )


def _handler_for(server: FakeAzureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                reply = server.handle(self.command, self.path, headers, body)
            except Exception as exc:  # the fake must answer, like ARM does, with an envelope
                reply = error(500, "InternalServerError", f"fake failure: {exc!r}")
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", uuid.uuid4().hex)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
