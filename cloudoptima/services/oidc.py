"""The OpenID Connect relying party: discovery, the authorization request (code + PKCE S256, state, nonce),
the code exchange and ID-token validation. Authlib builds the requests; joserfc (Authlib's JOSE library)
verifies the ID token.

Contract:
- ``discover(issuer)`` reads ``<issuer>/.well-known/openid-configuration`` and refuses a document whose
  ``issuer`` differs from the configured one (OIDC Discovery §4.3) or that lacks an endpoint we need.
- ``authorization_url`` asks for ``response_type=code`` with the given ``state``, ``nonce`` and an S256
  challenge of ``code_verifier``.
- ``exchange_code`` posts the code, redirect URI and verifier to the token endpoint with HTTP Basic client
  authentication and answers the token response; the IdP's refusal raises :class:`OidcError` quoting it.
- ``validate_id_token`` checks the signature against the IdP's JWKS (RS256/ES256 only; ``none`` and HMAC
  never), ``iss`` == issuer, ``aud`` contains the client id (and ``azp`` is the client id when several
  audiences are named), ``exp`` in the future and ``iat`` not in the future (60 s leeway), and ``nonce`` ==
  the nonce we sent. Each failure raises :class:`IdTokenError` naming what was wrong.
- Only ``https`` issuers are accepted, except on loopback addresses (a local IdP for development and tests).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
HTTP_TIMEOUT = httpx.Timeout(HTTP_TIMEOUT_SECONDS)


class OidcError(RuntimeError):
    """The identity provider could not be used (unreachable, bad discovery document, refused the code)."""


class IdTokenError(OidcError):
    """The ID token is not acceptable; the message names the check that failed."""


def check_issuer_url(issuer: str) -> str:
    """``issuer`` without a trailing slash; ``ValueError`` unless https (or http on a loopback host)."""
    parts = urlsplit(issuer.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("issuer must be an https URL")
    if parts.query or parts.fragment:
        raise ValueError("issuer may not have a query or fragment")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError("issuer must use https (http is allowed only for a loopback address)")
    return issuer.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def discover(issuer: str, *, http: httpx.Client | None = None) -> ProviderMetadata:
    """The IdP's endpoints from its discovery document (see module contract)."""
    url = f"{issuer}/.well-known/openid-configuration"
    data = _get_json(url, http)
    if data.get("issuer") != issuer:
        raise OidcError(f"the discovery document names issuer {data.get('issuer')!r}, not {issuer!r}")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not data.get(k)]
    if missing:
        raise OidcError(f"the discovery document lacks {', '.join(missing)}")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=str(data["authorization_endpoint"]),
        token_endpoint=str(data["token_endpoint"]),
        jwks_uri=str(data["jwks_uri"]),
    )


def _get_json(url: str, http: httpx.Client | None) -> dict[str, Any]:
    client = http or httpx.Client(timeout=HTTP_TIMEOUT)
    try:
        response = client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"the identity provider could not be read at {url}: {exc}") from exc
    finally:
        if http is None:
            client.close()
    if not isinstance(data, dict):
        raise OidcError(f"{url} did not answer a JSON object")
    return data


def _client(client_id: str, client_secret: str, redirect_uri: str, scope: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name, not a secret
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def authorization_url(
    metadata: ProviderMetadata,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    nonce: str,
    code_verifier: str,
) -> str:
    """The URL that sends the browser to the IdP (code flow, PKCE S256, state and nonce)."""
    with _client(client_id, "", redirect_uri, scope) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
        )
    return str(url)


def exchange_code(
    metadata: ProviderMetadata,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """The token response for ``code`` (see module contract)."""
    with _client(client_id, client_secret, redirect_uri, "openid") as client:
        try:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
            )
        except OAuthError as exc:
            raise OidcError(
                f"the identity provider refused the code: {exc.error} {exc.description or ''}".strip()
            ) from exc
        except httpx.HTTPError as exc:
            raise OidcError(f"the identity provider's token endpoint failed: {exc}") from exc
    return dict(token)


def fetch_jwks(metadata: ProviderMetadata, *, http: httpx.Client | None = None) -> KeySet:
    data = _get_json(metadata.jwks_uri, http)
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcError(f"the identity provider's JWKS at {metadata.jwks_uri} is unusable: {exc}") from exc


def validate_id_token(
    id_token: str, *, keys: KeySet, issuer: str, client_id: str, nonce: str, now: datetime
) -> dict[str, Any]:
    """The ID token's claims once every check of the module contract passed."""
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
    except BadSignatureError as exc:
        raise IdTokenError("ID token signature does not verify against the identity provider's keys") from exc
    except JoseError as exc:
        raise IdTokenError(f"ID token cannot be read ({exc.error})") from exc
    claims = dict(token.claims)
    registry = JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        sub={"essential": True},
        aud={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise IdTokenError("ID token has expired") from exc
    except MissingClaimError as exc:
        raise IdTokenError(f"ID token lacks a required claim ({exc.description})") from exc
    except InvalidClaimError as exc:
        raise IdTokenError(f"ID token has a wrong {exc.claim}: {_explain(exc.claim)}") from exc
    except JoseError as exc:
        raise IdTokenError(f"ID token is not acceptable ({exc.description or exc.error})") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if client_id not in audiences:
        raise IdTokenError("ID token has a wrong audience: it was not issued to this client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenError("ID token names several audiences but its azp is not this client")
    return claims


def _explain(claim: str) -> str:
    return {
        "iss": "it was not issued by the configured issuer",
        "nonce": "it does not answer this sign-in (replayed or mixed up)",
        "iat": "it was issued in the future",
    }.get(claim, "the value is not acceptable")
