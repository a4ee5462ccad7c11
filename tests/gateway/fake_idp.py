"""A strict local OpenID Connect identity provider for tests (an in-process HTTP server on 127.0.0.1).

It serves discovery, ``/authorize``, ``/token`` and ``/jwks`` with a real RSA key, and refuses what a real
IdP refuses: an unknown client or redirect URI, a request without ``openid``, state, nonce or an S256 PKCE
challenge, a token request without HTTP Basic client authentication or with a wrong secret, a code used
twice, issued to another client or redirect URI, or a verifier that does not match the challenge.

The person who authenticates at ``/authorize`` is ``next_person`` (the test sets it); ``tamper`` changes the
next ID token's claims (wrong audience, expired, another nonce...); ``sign_with_stranger`` signs it with a key
the JWKS does not publish.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


@dataclass
class Person:
    subject: str
    email: str
    groups: list[str] = field(default_factory=list)
    name: str = "Ada Lovelace"
    email_verified: bool = True


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    person: Person
    used: bool = False


class FakeIdentityProvider:
    """See module docstring. ``clients`` maps client id -> (secret, allowed redirect URIs)."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "idp-key-1", "use": "sig", "alg": "RS256"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "idp-key-1"})
        self.clients: dict[str, tuple[str, set[str]]] = {}
        self.grants: dict[str, _Grant] = {}
        self.next_person: Person | None = None
        self.tamper: dict[str, Any] = {}
        self.sign_with_stranger = False
        self.token_requests = 0
        self.refusals: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeIdentityProvider:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def register(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = (secret, {redirect_uri})

    # ---- endpoints -----------------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        client = self.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri not in client[1]:
            return self._refuse(400, "unknown client or unregistered redirect_uri")
        required = ("state", "nonce", "code_challenge")
        problems = [k for k in required if not query.get(k)]
        if query.get("response_type") != "code":
            problems.append("response_type")
        if "openid" not in query.get("scope", "").split():
            problems.append("scope")
        if query.get("code_challenge_method") != "S256":
            problems.append("code_challenge_method")
        if problems or self.next_person is None:
            return self._refuse(400, f"invalid authorization request: {problems or 'nobody signs in'}")
        code = secrets.token_urlsafe(24)
        self.grants[code] = _Grant(
            query["client_id"], redirect_uri, query["code_challenge"], query["nonce"], self.next_person
        )
        location = f"{redirect_uri}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, {}

    def token(
        self, form: dict[str, str], authorization: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        self.token_requests += 1
        if not authorization or not authorization.startswith("Basic "):
            return self._refuse(401, "invalid_client", "client authentication (HTTP Basic) is required")
        client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client[0], secret):
            return self._refuse(401, "invalid_client", "client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return self._refuse(400, "unsupported_grant_type", "")
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.used:
            return self._refuse(400, "invalid_grant", "code is unknown or was already used")
        grant.used = True
        if grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri"):
            return self._refuse(400, "invalid_grant", "code was issued to another client or redirect_uri")
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or digest != grant.challenge:
            return self._refuse(400, "invalid_grant", "PKCE verification failed")
        now = int(time.time())
        person = grant.person
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": person.subject,
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
            "groups": person.groups,
        }
        claims.update(self.tamper)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.stranger if self.sign_with_stranger else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "idp-key-1"}, claims, key)
        body = {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }
        return 200, {}, body

    def _refuse(
        self, status: int, error: str, description: str = ""
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        self.refusals.append(f"{error}: {description}".rstrip(": "))
        return status, {}, {"error": error, "error_description": description}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                return

            def _send(self, status: int, headers: dict[str, str], body: Mapping[str, object]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    self._send(200, {}, idp.discovery())
                elif parts.path == "/jwks":
                    self._send(200, {}, KeySet([idp.key]).as_dict(private=False))
                elif parts.path == "/authorize":
                    self._send(*idp.authorize(query))
                else:
                    self._send(404, {}, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path == "/token":
                    self._send(*idp.token(form, self.headers.get("Authorization")))
                else:
                    self._send(404, {}, {"error": "not_found"})

        return Handler
