"""OpenID Connect single sign-on through the gateway against a strict local identity provider
(``tests.gateway.fake_idp``), and JWT signing-key rotation with a grace period through the gateway."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.security.jwt_keys import default_kid
from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog, SsoProvider, User
from cloudoptima_gateway.main import build_app
from tests.gateway.conftest import Org, make_org
from tests.gateway.fake_idp import FakeIdentityProvider, Person

CALLBACK = "http://testserver/v1/auth/sso/callback"
CLIENT_ID, CLIENT_SECRET = "cloudoptima-web", "idp-client-secret-0123456789"
GROUPS = {"finops-team": "finops_manager", "engineers": "engineer"}


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdentityProvider]:
    with FakeIdentityProvider() as provider:
        provider.register(CLIENT_ID, CLIENT_SECRET, CALLBACK)
        yield provider


@pytest.fixture(scope="module")
def sso_org(
    client: TestClient, engine: Engine, gateway_settings: Settings, idp: FakeIdentityProvider
) -> tuple[Org, str]:
    org = make_org(engine, gateway_settings, name="sso")
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    response = client.put("/v1/organization/sso", headers=org.headers("admin"), json=_config(idp, slug))
    assert response.status_code == 200, response.text
    return org, slug


def _config(idp: FakeIdentityProvider, slug: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "issuer": idp.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "group_roles": GROUPS,
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def _start(client: TestClient, slug: str) -> str:
    start = client.get("/v1/auth/sso/login", params={"organization": slug}, follow_redirects=False)
    assert start.status_code == 302, start.text
    return str(start.headers["location"])


def _sign_in(client: TestClient, idp: FakeIdentityProvider, slug: str, person: Person) -> Any:
    """The browser's round trip: gateway -> IdP (the person authenticates) -> gateway callback."""
    idp.next_person = person
    at_idp = httpx.get(_start(client, slug), follow_redirects=False)
    assert at_idp.status_code == 302, at_idp.text
    back = urlsplit(at_idp.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(f"{back.path}?{back.query}")


def _user(engine: Engine, email: str) -> User | None:
    with Session(engine) as session:
        return session.scalars(select(User).where(func.lower(User.email) == email)).first()


def test_sign_in_creates_the_user_with_the_role_of_their_groups(
    client: TestClient, engine: Engine, idp: FakeIdentityProvider, sso_org: tuple[Org, str]
) -> None:
    org, slug = sso_org
    ada = Person(f"sub-{uuid.uuid4().hex[:6]}", f"ada-{slug}@example.com", ["engineers", "finops-team"])
    location = _start(client, slug)
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [CALLBACK]
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == [CLIENT_ID]

    idp.next_person = ada
    back = urlsplit(httpx.get(location, follow_redirects=False).headers["location"])
    callback = f"{back.path}?{back.query}"
    signed_in = client.get(callback)
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["role"] == "finops_manager" and claims["org_id"] == str(org.id)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/v1/auth/api-keys", headers=bearer).status_code == 200
    assert client.get("/v1/organization/sso", headers=bearer).status_code == 403  # not an admin
    assert client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 200
    user = _user(engine, ada.email)
    assert user is not None and user.organization_id == org.id and user.role == "finops_manager"
    assert user.password_hash.startswith("!sso:") and user.full_name == "Ada Lovelace"
    # No password sign-in for an SSO user; the state cannot be replayed.
    login = client.post("/v1/auth/login", json={"email": ada.email, "password": "!sso:whatever"})
    assert login.status_code == 401
    replay = client.get(callback)
    assert replay.status_code == 400 and "already used" in replay.json()["detail"]

    # The role follows the groups at every sign-in; the same subject stays the same user.
    again = _sign_in(client, idp, slug, Person(ada.subject, ada.email, ["engineers"]))
    assert again.status_code == 200, again.text
    assert jwt.decode(again.json()["access_token"], options={"verify_signature": False})["role"] == "engineer"
    assert _user(engine, ada.email).id == user.id  # type: ignore[union-attr]

    # A group that maps to nothing and no default role: refused, nobody created; a default role admits.
    bob = Person(f"sub-{uuid.uuid4().hex[:6]}", f"bob-{slug}@example.com", ["marketing"])
    refused = _sign_in(client, idp, slug, bob)
    assert refused.status_code == 403 and "none of your groups (marketing)" in refused.json()["detail"]
    assert _user(engine, bob.email) is None
    update_ = client.put(
        "/v1/organization/sso",
        headers=org.headers("admin"),
        json=_config(idp, slug, client_secret=None, default_role="viewer"),
    )
    assert update_.status_code == 200 and update_.json()["default_role"] == "viewer"
    admitted = _sign_in(client, idp, slug, bob)
    assert admitted.status_code == 200, admitted.text
    assert _user(engine, bob.email).role == "viewer"  # type: ignore[union-attr]
    client.put(
        "/v1/organization/sso", headers=org.headers("admin"), json=_config(idp, slug, client_secret=None)
    )

    # A deactivated user cannot come back through SSO.
    with Session(engine) as session:
        session.execute(update(User).where(User.id == user.id).values(is_active=False))
        session.commit()
    deactivated = _sign_in(client, idp, slug, Person(ada.subject, ada.email, ["engineers"]))
    assert deactivated.status_code == 403 and "deactivated" in deactivated.json()["detail"]

    with Session(engine) as session:
        results = (
            session.execute(
                select(AuditLog.result).where(
                    AuditLog.organization_id == org.id, AuditLog.action == "sso_callback"
                )
            )
            .scalars()
            .all()
        )
    assert results.count("success") == 3 and results.count("denied") == 2


@pytest.mark.parametrize(
    ("tamper", "stranger", "message"),
    [
        ({"nonce": "someone-elses-nonce"}, False, "wrong nonce"),
        ({"aud": "another-client"}, False, "wrong audience"),
        ({"iss": "http://127.0.0.1:1"}, False, "wrong iss"),
        ({"exp": -600, "iat": -900}, False, "expired"),
        ({}, True, "signature does not verify"),
        ({"email": None}, False, "no email"),
    ],
)
def test_id_tokens_that_fail_a_check_are_refused(
    client: TestClient,
    engine: Engine,
    idp: FakeIdentityProvider,
    sso_org: tuple[Org, str],
    tamper: dict[str, Any],
    stranger: bool,
    message: str,
) -> None:
    _org, slug = sso_org
    now = int(time.time())
    idp.tamper = {k: now + v if k in ("exp", "iat") else v for k, v in tamper.items()}
    idp.sign_with_stranger = stranger
    person = Person(f"sub-{uuid.uuid4().hex[:6]}", f"eve-{uuid.uuid4().hex[:6]}@example.com", ["engineers"])
    try:
        response = _sign_in(client, idp, slug, person)
    finally:
        idp.tamper, idp.sign_with_stranger = {}, False
    expected = 403 if message == "no email" else 401
    assert response.status_code == expected, response.text
    assert message in response.json()["detail"]
    assert _user(engine, person.email) is None


def test_callbacks_the_platform_did_not_start_and_admin_api(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    idp: FakeIdentityProvider,
    sso_org: tuple[Org, str],
) -> None:
    org, slug = sso_org
    bogus = client.get("/v1/auth/sso/callback", params={"state": "forged", "code": "x"})
    assert bogus.status_code == 400 and "unknown" in bogus.json()["detail"]
    assert client.get("/v1/auth/sso/callback", params={"code": "x"}).status_code == 400
    # The IdP says no: the state is spent.
    state = parse_qs(urlsplit(_start(client, slug)).query)["state"][0]
    denied = client.get("/v1/auth/sso/callback", params={"state": state, "error": "access_denied"})
    assert denied.status_code == 401 and "access_denied" in denied.json()["detail"]
    assert client.get("/v1/auth/sso/callback", params={"state": state, "code": "x"}).status_code == 400
    assert client.get("/v1/auth/sso/login", params={"organization": "no-such-org"}).status_code == 404

    # The email of another organisation's user is not taken over.
    other = make_org(engine, gateway_settings, name="other")
    with Session(engine) as session:
        theirs = session.get(User, other.users["viewer"])
        assert theirs is not None
        their_email = theirs.email
    takeover = _sign_in(client, idp, slug, Person("sub-mallory", their_email, ["finops-team"]))
    assert takeover.status_code == 403 and "another organisation" in takeover.json()["detail"]

    # Admin API: admins only; the secret is write-only and encrypted at rest; slugs are unique.
    assert client.get("/v1/organization/sso", headers=org.headers("finops_manager")).status_code == 403
    shown = client.get("/v1/organization/sso", headers=org.headers("admin")).json()
    assert shown["has_client_secret"] is True and CLIENT_SECRET not in str(shown)
    assert shown["login_path"] == f"/v1/auth/sso/login?organization={slug}"
    with Session(engine) as session:
        stored = session.scalars(select(SsoProvider).where(SsoProvider.organization_id == org.id)).one()
        assert CLIENT_SECRET not in stored.client_secret_encrypted
        cipher = CredentialCipher(gateway_settings.resolved_encryption_keys)
        assert cipher.decrypt(stored.client_secret_encrypted) == {"client_secret": CLIENT_SECRET}
    first = client.put("/v1/organization/sso", headers=other.headers("admin"), json=_config(idp, slug))
    assert first.status_code == 422 and "already used" in first.json()["detail"][0]["msg"]
    assert first.json()["detail"][0]["loc"] == ["body", "slug"]
    no_secret = client.put(
        "/v1/organization/sso",
        headers=other.headers("admin"),
        json=_config(idp, f"x{slug}", client_secret=None),
    )
    assert (
        no_secret.status_code == 422 and "client_secret is required" in no_secret.json()["detail"][0]["msg"]
    )
    assert no_secret.json()["detail"][0]["loc"] == ["body", "client_secret"]
    plain_http = client.put(
        "/v1/organization/sso",
        headers=other.headers("admin"),
        json=_config(idp, f"x{slug}", issuer="http://idp.example.com"),
    )
    assert plain_http.status_code == 422 and "https" in plain_http.json()["detail"][0]["msg"]
    assert plain_http.json()["detail"][0]["loc"] == ["body", "issuer"]
    bad_role = client.put(
        "/v1/organization/sso",
        headers=other.headers("admin"),
        json=_config(idp, f"x{slug}", default_role="root"),
    )
    assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"] == ["body", "default_role"]

    # A wrong client secret: the IdP refuses the code, the gateway says so.
    wrong = _config(idp, f"w{slug}", client_secret="not-the-secret")
    assert client.put("/v1/organization/sso", headers=other.headers("admin"), json=wrong).status_code == 200
    refused = _sign_in(client, idp, f"w{slug}", Person("sub-w", f"w-{slug}@example.com", ["engineers"]))
    assert refused.status_code == 502 and "invalid_client" in refused.json()["detail"]
    assert client.delete("/v1/organization/sso", headers=other.headers("admin")).status_code == 200
    assert client.get("/v1/auth/sso/login", params={"organization": f"w{slug}"}).status_code == 404


def test_old_access_tokens_work_through_the_grace_period_only(
    engine: Engine, gateway_settings: Settings
) -> None:
    """The gateway after a JWT key rotation: tokens of the retired key pass for the grace period, then 401."""
    org = make_org(engine, gateway_settings)  # tokens signed with the key in use until now
    old_secret = gateway_settings.resolved_jwt_secret
    retired = datetime.now(UTC).replace(microsecond=0)
    rotated = Settings(
        **{
            **gateway_settings.model_dump(),
            "jwt_secret": "n" * 48,
            "jwt_key_id": "next",
            "jwt_previous_keys": [
                {"kid": default_kid(old_secret), "secret": old_secret, "retired_at": retired}
            ],
            "jwt_key_grace_minutes": 10,
        }
    )
    with TestClient(build_app(rotated)) as client:
        with time_machine.travel(retired + timedelta(minutes=5), tick=True):
            inside = client.get("/v1/auth/api-keys", headers=org.headers("analyst"))
            assert inside.status_code == 200, inside.text
        with time_machine.travel(retired + timedelta(minutes=11), tick=True):
            # Still 19 minutes before the token itself expires, but its key's grace period is over.
            after = client.get("/v1/auth/api-keys", headers=org.headers("analyst"))
            assert after.status_code == 401 and "grace period is over" in after.json()["detail"]
            login = client.post(
                "/v1/auth/login", json={"email": _email(engine, org), "password": "correct horse battery"}
            )
            assert login.status_code == 200, login.text
            fresh = login.json()["access_token"]
            assert jwt.get_unverified_header(fresh)["kid"] == "next"
            assert (
                client.get("/v1/auth/api-keys", headers={"Authorization": f"Bearer {fresh}"}).status_code
                == 200
            )


def _email(engine: Engine, org: Org) -> str:
    with Session(engine) as session:
        user = session.get(User, org.users["analyst"])
        assert user is not None
        return user.email
