"""The web console's httpOnly refresh-token cookie (opt-in with ``X-CloudOptima-Client: console``), and the
SSO sign-in the console starts (303 to the console with the cookie) against the strict fake IdP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.settings import Settings
from cloudoptima_gateway.session_cookie import COOKIE_NAME, MARKER_NAME
from tests.gateway.conftest import PASSWORD, make_org
from tests.gateway.fake_idp import FakeIdentityProvider, Person

CONSOLE = {"X-CloudOptima-Client": "console"}
CALLBACK = "http://testserver/v1/auth/sso/callback"
CLIENT_ID, CLIENT_SECRET = "cloudoptima-console", "idp-client-secret-console-0123"


def _set_cookie(response: httpx.Response, name: str = COOKIE_NAME) -> dict[str, Any]:
    """The cookie ``name`` the response sets: value and attributes (lower-case names)."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers
    morsel = SimpleCookie(headers[0])[name]
    flags = {part.strip().lower() for part in headers[0].split(";")}
    return {
        "value": morsel.value,
        "path": morsel["path"],
        "max-age": morsel["max-age"],
        "samesite": morsel["samesite"].lower(),
        "httponly": "httponly" in flags,
        "secure": "secure" in flags,
    }


def _post(
    client: TestClient,
    path: str,
    *,
    cookie: str | None = None,
    console: bool = True,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """POST with exactly the given cookie (the client's jar is emptied so nothing leaks between calls)."""
    client.cookies.clear()
    sent = {**(CONSOLE if console else {}), **(headers or {})}
    if cookie is not None:
        sent["Cookie"] = f"{COOKIE_NAME}={cookie}"
    response = client.post(path, headers=sent, **kwargs)
    client.cookies.clear()
    return response


def _signed_in(client: TestClient, engine: Engine, settings: Settings) -> tuple[str, httpx.Response]:
    email = f"cookie-{uuid.uuid4().hex[:8]}@example.com"
    registered = client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "company_name": "Cookies", "role": "devops"},
    )
    assert registered.status_code == 201, registered.text
    login = _post(client, "/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return email, login


def test_console_login_sets_the_cookie_and_refresh_rotates_it(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    _, login = _signed_in(client, engine, gateway_settings)
    assert login.json()["refresh_token"] == "" and login.json()["access_token"]
    cookie = _set_cookie(login)
    assert cookie["httponly"] and not cookie["secure"]  # plain http test server
    assert cookie["samesite"] == "strict" and cookie["path"] == "/v1/auth"
    assert cookie["max-age"] == str(gateway_settings.refresh_token_days * 86_400)
    first = cookie["value"]
    assert len(first) > 20
    # The marker tells the console's script a session may exist; it carries no secret.
    marker = _set_cookie(login, MARKER_NAME)
    assert marker["value"] == "1" and marker["path"] == "/" and not marker["httponly"]
    assert marker["max-age"] == cookie["max-age"] and marker["samesite"] == "strict"

    rotated = _post(client, "/v1/auth/refresh", cookie=first)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] == ""
    second = _set_cookie(rotated)["value"]
    assert second != first
    claims = jwt.decode(rotated.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "admin"

    # The stolen (spent) cookie comes back: 401, the cookie is cleared and the whole family is revoked.
    reused = _post(client, "/v1/auth/refresh", cookie=first)
    assert reused.status_code == 401 and "already used" in reused.json()["detail"]
    cleared = _set_cookie(reused)
    assert cleared["value"] == "" and cleared["max-age"] == "0"
    assert _set_cookie(reused, MARKER_NAME)["max-age"] == "0"
    assert _post(client, "/v1/auth/refresh", cookie=second).status_code == 401

    # No cookie at all: the console is told to sign in.
    missing = _post(client, "/v1/auth/refresh")
    assert missing.status_code == 401 and missing.json()["detail"] == "no session: sign in"


def test_logout_clears_the_cookie_and_revokes_its_family(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    _, login = _signed_in(client, engine, gateway_settings)
    token = _set_cookie(login)["value"]
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    out = _post(client, "/v1/auth/logout", cookie=token, headers=bearer)
    assert out.status_code == 200, out.text
    cleared = _set_cookie(out)
    assert cleared["value"] == "" and cleared["max-age"] == "0" and cleared["path"] == "/v1/auth"
    assert _set_cookie(out, MARKER_NAME)["max-age"] == "0"
    assert _post(client, "/v1/auth/refresh", cookie=token).status_code == 401


def test_without_the_header_the_old_contract_holds_and_the_cookie_is_refused(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    email, console_login = _signed_in(client, engine, gateway_settings)
    cookie = _set_cookie(console_login)["value"]
    plain = _post(client, "/v1/auth/login", console=False, json={"email": email, "password": PASSWORD})
    assert plain.status_code == 200 and plain.json()["refresh_token"]
    assert not plain.headers.get_list("set-cookie")
    rotated = _post(
        client, "/v1/auth/refresh", console=False, json={"refresh_token": plain.json()["refresh_token"]}
    )
    assert rotated.status_code == 200 and rotated.json()["refresh_token"]
    assert not rotated.headers.get_list("set-cookie")

    # A cross-site form can carry the cookie but not the header: refused, and the cookie stays usable.
    forged = _post(client, "/v1/auth/refresh", cookie=cookie, console=False)
    assert forged.status_code == 403 and "X-CloudOptima-Client" in forged.json()["detail"]
    missing = _post(client, "/v1/auth/refresh", console=False)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "refresh_token"]
    assert _post(client, "/v1/auth/refresh", cookie=cookie).status_code == 200


def test_the_cookie_is_secure_over_https(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    email, _ = _signed_in(client, engine, gateway_settings)
    login = _post(client, "https://testserver/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200 and _set_cookie(login)["secure"]


# ---- SSO started by the console ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def console_idp(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> Iterator[tuple[FakeIdentityProvider, str, dict[str, str]]]:
    with FakeIdentityProvider() as provider:
        provider.register(CLIENT_ID, CLIENT_SECRET, CALLBACK)
        org = make_org(engine, gateway_settings, name="console-sso")
        slug = f"console-{uuid.uuid4().hex[:8]}"
        body = {
            "slug": slug,
            "issuer": provider.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "group_roles": {"engineers": "engineer"},
        }
        assert client.put("/v1/organization/sso", headers=org.headers("admin"), json=body).status_code == 200
        yield provider, slug, org.headers("admin")


def _console_start(client: TestClient, slug: str) -> str:
    start = client.get(
        "/v1/auth/sso/login", params={"organization": slug, "client": "console"}, follow_redirects=False
    )
    assert start.status_code == 302, start.text
    return str(start.headers["location"])


def test_sso_started_by_the_console_redirects_with_the_cookie(
    client: TestClient, console_idp: tuple[FakeIdentityProvider, str, dict[str, str]]
) -> None:
    idp, slug, _ = console_idp
    idp.next_person = Person(f"sub-{uuid.uuid4().hex[:6]}", f"eve-{slug}@example.com", ["engineers"])
    at_idp = httpx.get(_console_start(client, slug), follow_redirects=False)
    back = urlsplit(at_idp.headers["location"])
    client.cookies.clear()
    done = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"
    cookie = _set_cookie(done)
    assert cookie["httponly"] and cookie["samesite"] == "strict" and cookie["path"] == "/v1/auth"
    restored = _post(client, "/v1/auth/refresh", cookie=cookie["value"])
    assert restored.status_code == 200, restored.text
    claims = jwt.decode(restored.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "engineer"

    # Refused by the IdP: back to the console with the message; the API contract stays JSON for others.
    state = parse_qs(urlsplit(_console_start(client, slug)).query)["state"][0]
    denied = client.get(
        "/v1/auth/sso/callback",
        params={"state": state, "error": "access_denied", "error_description": "not today"},
        follow_redirects=False,
    )
    assert denied.status_code == 303 and not denied.headers.get_list("set-cookie")
    message = parse_qs(urlsplit(denied.headers["location"]).query)["sso_error"][0]
    assert urlsplit(denied.headers["location"]).path == "/"
    assert message == "the identity provider refused the sign-in: access_denied not today"
    # Nobody in the groups: 403 becomes a redirect with the reason.
    idp.next_person = Person(f"sub-{uuid.uuid4().hex[:6]}", f"mel-{slug}@example.com", ["marketing"])
    at_idp = httpx.get(_console_start(client, slug), follow_redirects=False)
    back = urlsplit(at_idp.headers["location"])
    refused = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert refused.status_code == 303
    assert "none of your groups" in parse_qs(urlsplit(refused.headers["location"]).query)["sso_error"][0]


def test_the_console_flag_comes_from_the_server_state_not_the_query(
    client: TestClient, console_idp: tuple[FakeIdentityProvider, str, dict[str, str]]
) -> None:
    idp, slug, _ = console_idp
    person = Person(f"sub-{uuid.uuid4().hex[:6]}", f"api-{slug}@example.com", ["engineers"])
    # An API sign-in (no flag) stays JSON even if someone adds client=console to the callback.
    idp.next_person = person
    start = client.get("/v1/auth/sso/login", params={"organization": slug}, follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    assert not state.startswith("console.")
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    answered = client.get(f"{back.path}?{back.query}&client=console", follow_redirects=False)
    assert answered.status_code == 200 and answered.json()["refresh_token"]
    assert not answered.headers.get_list("set-cookie")
    # A forged state that merely looks like a console one is not a pending sign-in: the JSON 400.
    forged = client.get(
        "/v1/auth/sso/callback", params={"state": "console.forged", "code": "x"}, follow_redirects=False
    )
    assert forged.status_code == 400 and "unknown" in forged.json()["detail"]
