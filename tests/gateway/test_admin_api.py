"""Organisation administration over HTTP: settings patches (validated, all or nothing, audited), the tier
(platform administrators only), users paged, role changes with last-admin protection, deactivation that
stops a token, an API key and an open socket within one request, and the Content-Security-Policy."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from cloudoptima.domain.organisation_settings import known_keys
from cloudoptima.services.user_admin import LastAdminError, UserAdminService
from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog, Organization, User
from cloudoptima_cli.app import app
from cloudoptima_gateway.docs_pages import DEFAULT_CSP
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_mcp.identity import AuthenticationError, identity_from_jwt
from tests.gateway.conftest import PASSWORD, make_org


def _audit(engine: Engine, org: uuid.UUID, action: str) -> list[AuditLog]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(AuditLog)
                .where(AuditLog.organization_id == org, AuditLog.action == action)
                .order_by(AuditLog.timestamp)
            )
        )


def _db_env(settings: Settings) -> dict[str, str]:
    return {"DATABASE_URL": settings.resolved_database_url()}


def test_organisation_settings_are_validated_audited_and_the_tier_is_the_platforms(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, tier="free")
    read = client.get("/v1/organization", headers=org.headers("viewer"))
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["tier"] == "free" and body["hourly_request_limit"] == 1000
    assert body["settings"]["require_approval"] is True and set(body["settings"]) == set(known_keys())

    unknown = client.patch("/v1/organization", headers=org.headers(), json={"settings": {"approvals": 2}})
    assert unknown.status_code == 422
    problem = unknown.json()["detail"][0]
    assert problem["loc"] == ["body", "settings"]
    assert "approvals" in problem["msg"] and "require_approval" in problem["msg"]
    mistyped = client.patch(
        "/v1/organization", headers=org.headers(), json={"settings": {"rollup_tag_keys": "team"}}
    )
    assert mistyped.status_code == 422 and "'rollup_tag_keys'" in mistyped.json()["detail"][0]["msg"]
    # All or nothing: a valid setting beside a refused tier change changes nothing.
    refused = client.patch(
        "/v1/organization",
        headers=org.headers(),
        json={"tier": "enterprise", "settings": {"require_approval": False}},
    )
    assert refused.status_code == 403 and "platform administrator" in refused.json()["detail"]
    assert client.get("/v1/organization", headers=org.headers()).json()["settings"]["require_approval"]

    changed = client.patch(
        "/v1/organization",
        headers=org.headers(),
        json={"settings": {"require_approval": False, "rollup_tag_keys": ["team", "env"]}, "name": "Renamed"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["changed"] == ["name", "require_approval", "rollup_tag_keys"]
    assert changed.json()["settings"]["rollup_tag_keys"] == ["team", "env"]
    with Session(engine) as session:
        stored = session.get(Organization, org.id)
        assert stored is not None and stored.settings["require_approval"] is False
    audits = _audit(engine, org.id, "update_organization")
    assert [a.result for a in audits] == ["failure", "failure", "denied", "success"]
    assert audits[-1].details["changed"] == ["name", "require_approval", "rollup_tag_keys"]

    # A platform administrator (flagged by the command line, the only way) may change the tier; the limits
    # follow at once.
    with Session(engine) as session:
        email = session.scalars(select(User.email).where(User.id == org.users["admin"])).one()
    cli = ["users", "platform-admin", email.upper(), "--state-dir", str(gateway_settings.state_dir)]
    unknown_account = CliRunner().invoke(
        app, [*cli[:2], "nobody@example.com", *cli[3:]], env=_db_env(gateway_settings)
    )
    assert unknown_account.exit_code == 1 and "no account with email" in unknown_account.output
    granted = CliRunner().invoke(app, cli, env=_db_env(gateway_settings))
    assert granted.exit_code == 0 and f"{email} is now a platform administrator" in granted.output
    bad_tier = client.patch("/v1/organization", headers=org.headers(), json={"tier": "platinum"})
    assert bad_tier.status_code == 422 and "free, pro, enterprise" in bad_tier.json()["detail"][0]["msg"]
    upgraded = client.patch("/v1/organization", headers=org.headers(), json={"tier": "pro"})
    assert upgraded.status_code == 200 and upgraded.json()["changed"] == ["tier"]
    after = client.get("/v1/organization", headers=org.headers("viewer"))
    assert after.json()["tier"] == "pro" and after.headers["X-RateLimit-Limit"] == "10000"


def test_audit_retention_below_a_year_is_refused_naming_the_setting(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    """The platform does not set RETENTION_ALLOW_SHORT here: 30 days is refused (422 at the setting's own
    location) and nothing is stored; 400 days is taken (tests/services/test_audit_retention_floor: pruning)."""
    org = make_org(engine, gateway_settings)
    short = client.patch(
        "/v1/organization", headers=org.headers(), json={"settings": {"audit_retention_days": 30}}
    )
    assert short.status_code == 422
    problem = short.json()["detail"][0]
    assert (
        problem["loc"] == ["body", "settings", "audit_retention_days"]
        and "safe minimum of 365" in problem["msg"]
    )
    assert (
        client.get("/v1/organization", headers=org.headers()).json()["settings"]["audit_retention_days"]
        == 365
    )
    kept = client.patch(
        "/v1/organization", headers=org.headers(), json={"settings": {"audit_retention_days": 400}}
    )
    assert kept.status_code == 200 and kept.json()["changed"] == ["audit_retention_days"]


def test_users_paged_and_role_changes_keep_an_admin(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    first = client.get("/v1/users?page=1&page_size=2", headers=org.headers())
    assert first.status_code == 200, first.text
    assert first.json()["pagination"] == {"page": 1, "page_size": 2, "total": 5, "total_pages": 3}
    third = client.get("/v1/users?page=3&page_size=2", headers=org.headers()).json()["users"]
    seen = {u["id"] for u in first.json()["users"]} | {u["id"] for u in third}
    assert len(seen) == 3 and all(u["status"] == "active" for u in third)
    assert client.get("/v1/users", headers=org.headers("finops_manager")).status_code == 403

    last = client.patch(f"/v1/users/{org.users['admin']}", headers=org.headers(), json={"role": "viewer"})
    assert last.status_code == 409 and "last admin" in last.json()["detail"]
    unknown = client.patch(f"/v1/users/{org.users['viewer']}", headers=org.headers(), json={"role": "owner"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "role"]

    promoted = client.patch(
        f"/v1/users/{org.users['engineer']}", headers=org.headers(), json={"role": "admin"}
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    # The engineer's token carried the old role: it stops at once; a new sign-in carries the new one.
    assert client.get("/v1/budgets", headers=org.headers("engineer")).status_code == 401
    with Session(engine) as session:
        email = session.scalars(select(User.email).where(User.id == org.users["engineer"])).one()
    signed_in = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    new_admin = {"Authorization": f"Bearer {signed_in['access_token']}"}
    demoted = client.patch(f"/v1/users/{org.users['admin']}", headers=new_admin, json={"role": "analyst"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "analyst"
    audits = _audit(engine, org.id, "change_user")
    assert (
        audits[-1].details["role"] == {"from": "admin", "to": "analyst"}
        and audits[-1].user_id != org.users["admin"]
    )


def test_a_deactivated_users_token_key_and_socket_stop_within_one_request(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    engineer = org.headers("engineer")
    key = client.post("/v1/auth/api-keys", headers=engineer, json={"name": "ci"}).json()["api_key"]
    as_key = {"X-API-Key": key}
    assert client.get("/v1/budgets", headers=as_key).status_code == 200
    assert client.get("/v1/budgets", headers=engineer).status_code == 200

    own = client.post(f"/v1/users/{org.users['admin']}/deactivate", headers=org.headers())
    assert own.status_code == 409 and "yourself" in own.json()["detail"]
    assert client.post(f"/v1/users/{uuid.uuid4()}/deactivate", headers=org.headers()).status_code == 404

    with client.websocket_connect(f"/v1/stream?token={org.tokens['engineer']}") as socket:
        socket.send_json({"type": "subscribe", "channel": "anomalies"})
        assert socket.receive_json()["type"] == "subscribed"
        done = client.post(f"/v1/users/{org.users['engineer']}/deactivate", headers=org.headers())
        assert done.status_code == 200, done.text
        assert done.json()["user"]["status"] == "deactivated" and done.json()["revoked_api_keys"] == 1
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4401 and closed.value.reason == "revoked: user deactivated"

    token_after = client.get("/v1/budgets", headers=engineer)
    assert token_after.status_code == 401 and token_after.json()["detail"] == "access token has been revoked"
    key_after = client.get("/v1/budgets", headers=as_key)
    assert key_after.status_code == 401 and key_after.json()["detail"] == "API key is invalid or revoked"
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/v1/stream?token={org.tokens['engineer']}") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 4401
    # MCP servers, which read revocation from the database, refuse the token too.
    issuer, factory = Runtime(gateway_settings).issuer(), sessionmaker(engine)
    with pytest.raises(AuthenticationError, match="user deactivated"):
        identity_from_jwt(factory, issuer, org.tokens["engineer"])
    assert identity_from_jwt(factory, issuer, org.tokens["analyst"]).role == "analyst"
    listed = client.get("/v1/users?page_size=100", headers=org.headers()).json()["users"]
    assert {u["id"]: u["status"] for u in listed}[str(org.users["engineer"])] == "deactivated"
    assert client.get("/v1/budgets", headers=org.headers("analyst")).status_code == 200
    audit = _audit(engine, org.id, "deactivate_user")
    assert [a.result for a in audit] == ["failure", "failure", "success"]
    assert audit[-1].details["revoked_api_keys"] == 1 and audit[-1].resource_id == str(org.users["engineer"])


def test_html_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    policy = docs.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    script_src = re.search(r"script-src ([^;]+)", policy)
    # Scripts from the gateway only (served locally, tests/gateway/test_docs_pages.py), none inline.
    assert script_src is not None and script_src.group(1) == "'self'"
    assert re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL) == []
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "script-src 'self';" in redoc.headers["content-security-policy"]
    api = client.get("/openapi.json")
    assert api.headers["content-security-policy"] == DEFAULT_CSP
    assert "script-src 'self'" in DEFAULT_CSP and "unsafe" not in DEFAULT_CSP


def test_the_service_never_leaves_an_organisation_without_an_active_admin(db_session: Session) -> None:
    org = Organization(name="one-admin", subscription_tier="free", settings={})
    db_session.add(org)
    db_session.flush()
    people = {}
    for role in ("admin", "finops_manager"):
        user = User(
            organization_id=org.id,
            email=f"{role}-{uuid.uuid4().hex[:6]}@example.com",
            password_hash="x",
            role=role,
        )
        db_session.add(user)
        db_session.flush()
        people[role] = user.id
    service = UserAdminService(db_session, org.id, access_ttl=timedelta(minutes=30))
    with pytest.raises(LastAdminError, match="last admin"):
        service.deactivate(people["finops_manager"], people["admin"])
    with pytest.raises(LastAdminError, match="last admin"):
        service.change_role(people["finops_manager"], people["admin"], "viewer")
    with pytest.raises(ValueError, match="expected one of viewer, analyst"):
        service.change_role(people["admin"], people["finops_manager"], "owner")
    with pytest.raises(LookupError):
        service.deactivate(people["admin"], uuid.uuid4())
    assert service.change_role(people["admin"], people["finops_manager"], "admin").revocation is not None
    done = service.deactivate(people["finops_manager"], people["admin"])
    assert done.user.is_active is False and done.revocation.user is True
