"""Sign-up, sign-in (throttled), rotating refresh tokens, logout, API keys and invitations over HTTP."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog, Organization, User
from tests.gateway.conftest import PASSWORD, make_org


def _register(client: TestClient, email: str | None = None) -> dict[str, str]:
    email = email or f"founder-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "company_name": "Acme", "role": "cfo"},
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email}


def test_register_creates_an_admin_of_a_new_free_organisation(client: TestClient, engine: Engine) -> None:
    body = _register(client)
    with Session(engine) as session:
        user = session.get(User, uuid.UUID(body["user_id"]))
        assert user is not None and user.role == "admin"
        org = session.get(Organization, user.organization_id)
        assert org is not None and org.subscription_tier == "free" and org.name == "Acme"
        assert org.settings["personas"][str(user.id)] == "cfo"
        audit = session.scalars(select(AuditLog).where(AuditLog.organization_id == org.id)).all()
    assert [a.action for a in audit] == ["register"]
    assert audit[0].result == "success" and audit[0].user_id == user.id
    me = client.get("/v1/auth/api-keys", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


def test_register_validates_password_role_and_duplicates(client: TestClient) -> None:
    short = client.post(
        "/v1/auth/register",
        json={"email": "a@example.com", "password": "short", "company_name": "A", "role": "cfo"},
    )
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    bad_role = client.post(
        "/v1/auth/register",
        json={"email": "b@example.com", "password": PASSWORD, "company_name": "A", "role": "god"},
    )
    assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"] == ["body", "role"]
    body = _register(client)
    again = client.post(
        "/v1/auth/register",
        json={"email": body["email"].upper(), "password": PASSWORD, "company_name": "B", "role": "devops"},
    )
    assert again.status_code == 409


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    body = _register(client)
    login = client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD}).json()
    first = login["refresh_token"]
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    reused = client.post("/v1/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401 and "already used" in reused.json()["detail"]
    # the thief's reuse killed the legitimate holder's newer token too
    assert client.post("/v1/auth/refresh", json={"refresh_token": second}).status_code == 401
    # another sign-in (another family) is untouched
    other = client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD}).json()
    assert client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 200


def test_logout_revokes_the_access_token(client: TestClient) -> None:
    body = _register(client)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/v1/budgets", headers=headers).status_code == 200
    out = client.post("/v1/auth/logout", headers=headers, json={"refresh_token": body["refresh_token"]})
    assert out.json() == {"success": True}
    after = client.get("/v1/budgets", headers=headers)
    assert after.status_code == 401 and "revoked" in after.json()["detail"]
    assert client.post("/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code == 401
    assert client.get("/v1/budgets", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    assert client.get("/v1/budgets").status_code == 401


def test_login_is_throttled_per_account_even_with_the_right_password(client: TestClient) -> None:
    body = _register(client)
    for _ in range(5):
        wrong = client.post("/v1/auth/login", json={"email": body["email"], "password": "wrong-password"})
        assert wrong.status_code == 401
    locked = client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    other = _register(client)
    assert (
        client.post("/v1/auth/login", json={"email": other["email"], "password": PASSWORD}).status_code == 200
    )


def test_login_is_throttled_per_client_address(client: TestClient) -> None:
    for n in range(20):
        client.post("/v1/auth/login", json={"email": f"nobody{n}@example.com", "password": "wrong-password"})
    body = _register(client)
    blocked = client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert blocked.status_code == 429


def test_api_keys_authenticate_until_revoked(client: TestClient) -> None:
    body = _register(client)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    created = client.post("/v1/auth/api-keys", headers=headers, json={"name": "ci"})
    assert created.status_code == 201
    key = created.json()["api_key"]
    assert key.startswith("co_")
    listed = client.get("/v1/auth/api-keys", headers=headers).json()["api_keys"]
    assert [k["name"] for k in listed] == ["ci"] and "api_key" not in listed[0]
    assert client.get("/v1/budgets", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v1/budgets", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.delete(f"/v1/auth/api-keys/{created.json()['id']}", headers=headers).status_code == 200
    assert client.get("/v1/budgets", headers={"X-API-Key": key}).status_code == 401


def test_invitation_sets_password_and_role(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    denied = client.post(
        "/v1/auth/invitations",
        headers=org.headers("finops_manager"),
        json={"email": email, "role": "engineer"},
    )
    assert denied.status_code == 403 and "manage:users" in denied.json()["detail"]
    invited = client.post(
        "/v1/auth/invitations", headers=org.headers(), json={"email": email, "role": "engineer"}
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["invitation_token"]
    pending = client.get("/v1/auth/invitations", headers=org.headers()).json()["invitations"]
    assert [p["email"] for p in pending] == [email]
    assert client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    accepted = client.post("/v1/auth/invitations/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    headers = {"Authorization": f"Bearer {accepted.json()['access_token']}"}
    assert (
        client.post("/v1/budgets", headers=headers, json={}).status_code == 403
    )  # engineer: no write:budgets
    assert (
        client.post("/v1/auth/invitations/accept", json={"token": token, "password": PASSWORD}).status_code
        == 400
    )
    assert client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    assert client.get("/v1/auth/invitations", headers=org.headers()).json()["invitations"] == []


def test_login_looks_the_address_up_whatever_a_validator_thinks_of_it(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    """An account stored under a special-use domain (older demo installs used ``.local``) still signs in."""
    from cloudoptima.security.passwords import hash_password

    tag = uuid.uuid4().hex[:8]
    stored = f"admin-{tag}@demo.cloudoptima.local"
    with Session(engine) as session:
        org = Organization(name=f"legacy-{tag}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        session.add(
            User(organization_id=org.id, email=stored, password_hash=hash_password(PASSWORD), role="admin",
                 is_active=True)
        )  # fmt: skip
        session.commit()
    for typed in (stored, f"  ADMIN-{tag.upper()}@Demo.CloudOptima.Local \n"):
        login = client.post("/v1/auth/login", json={"email": typed, "password": PASSWORD})
        assert login.status_code == 200, (typed, login.text)
        assert login.json()["access_token"]
    for not_an_email in ("admin", "admin@", "@local", "a b@c.d", "a@b@c"):
        refused = client.post("/v1/auth/login", json={"email": not_an_email, "password": PASSWORD})
        assert refused.status_code == 422, not_an_email
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "email"] and "not an email address" in error["msg"]


def test_registration_and_invitations_want_a_deliverable_address(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    for special in ("someone@demo.cloudoptima.local", "someone@host.test", "someone@localhost"):
        refused = client.post(
            "/v1/auth/register",
            json={"email": special, "password": PASSWORD, "company_name": "A", "role": "cfo"},
        )
        assert refused.status_code == 422, special
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "email"]
        assert f"{special!r} is not a deliverable email address" in error["msg"]
    org = make_org(engine, gateway_settings)
    invited = client.post(
        "/v1/auth/invitations", headers=org.headers(), json={"email": "ops@box.local", "role": "engineer"}
    )
    assert invited.status_code == 422 and "not a deliverable email address" in invited.text
    mixed = f"  New.Person-{uuid.uuid4().hex[:6]}@Example.COM "
    body = client.post(
        "/v1/auth/register",
        json={"email": mixed, "password": PASSWORD, "company_name": "B", "role": "devops"},
    )
    assert body.status_code == 201, body.text
    with Session(engine) as session:
        user = session.get(User, uuid.UUID(body.json()["user_id"]))
        assert user is not None and user.email == mixed.strip().lower()
    assert (
        client.post("/v1/auth/login", json={"email": mixed.upper(), "password": PASSWORD}).status_code == 200
    )
