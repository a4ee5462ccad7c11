"""First-start bootstrap: a demo organisation, an admin user and an API key.

The plaintext password and key are returned once and written to ``demo-credentials.json`` (mode 600);
the database stores only their hashes.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.security.api_keys import mint_api_key
from cloudoptima.security.passwords import hash_password
from cloudoptima.storage.models import ApiKey, Organization, User

DEMO_EMAIL = "admin@demo.example.com"  # example.com: reserved for examples, accepted by every validator
DEMO_ORG_NAME = "Demo Organisation"


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    api_key: str
    organization_id: str


def read_credentials(path: Path) -> DemoCredentials | None:
    """The stored demo credentials, or None when absent; a corrupt file raises ``ValueError`` naming it."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return DemoCredentials(
            **{k: str(data[k]) for k in ("email", "password", "api_key", "organization_id")}
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is corrupt ({exc}); delete it to create new demo credentials") from exc


def write_credentials(path: Path, credentials: DemoCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(credentials), handle, indent=2)
    os.replace(tmp, path)
    path.chmod(0o600)


def ensure_demo_organisation(
    factory: sessionmaker[Session], credentials_file: Path
) -> tuple[DemoCredentials, bool]:
    """Return the demo credentials, creating org, admin and key when they do not exist yet.

    The boolean is True when they were created now (so the caller prints them once).
    """
    existing = read_credentials(credentials_file)
    with factory() as session:
        if existing is not None:
            org = session.get(Organization, uuid.UUID(existing.organization_id))
            if org is not None:
                return existing, False
        org = Organization(name=DEMO_ORG_NAME, subscription_tier="enterprise", settings={})
        session.add(org)
        session.flush()
        password = secrets.token_urlsafe(12)
        email = DEMO_EMAIL
        if session.scalars(select(User).where(User.email == email)).first() is not None:
            email = f"admin+{org.id.hex[:8]}@demo.example.com"
        user = User(
            organization_id=org.id,
            email=email,
            password_hash=hash_password(password),
            full_name="Demo Admin",
            role="admin",
            is_active=True,
        )
        session.add(user)
        session.flush()
        key = mint_api_key()
        session.add(
            ApiKey(
                organization_id=org.id, user_id=user.id, name="demo", prefix=key.prefix, key_hash=key.key_hash
            )
        )
        session.commit()
        credentials = DemoCredentials(
            email=email, password=password, api_key=key.plaintext, organization_id=str(org.id)
        )
    write_credentials(credentials_file, credentials)
    return credentials, True
