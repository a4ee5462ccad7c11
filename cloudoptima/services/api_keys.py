"""API keys of an organisation's users: create (plaintext shown once), list, revoke, authenticate.

Contract: a key is ``co_<prefix>_<secret>``; the prefix finds the row, argon2 checks the secret. A key acts
as its user with the user's current role; revoked keys, keys of inactive users and malformed keys fail
authentication alike (``None``). ``list``/``revoke`` are tenant-scoped: another organisation's key id is
missing (``LookupError``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.rbac import Role, is_role
from cloudoptima.security.api_keys import mint_api_key, split_api_key, verify_api_key
from cloudoptima.storage.models import ApiKey, User
from cloudoptima.storage.tenancy import TenantRepository


class _KeyRepository(TenantRepository[ApiKey]):
    model = ApiKey


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKey
    plaintext: str


@dataclass(frozen=True)
class KeyIdentity:
    """Who an authenticated key acts as."""

    key_id: uuid.UUID
    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role


class ApiKeyService:
    """Keys of one organisation (see module contract); the caller commits."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._repo = _KeyRepository(session, organization_id)
        self._now = now

    def create(self, user_id: uuid.UUID, name: str) -> CreatedKey:
        key = mint_api_key()
        row = ApiKey(
            user_id=user_id,
            name=name.strip(),
            prefix=key.prefix,
            key_hash=key.key_hash,
            created_at=self._now(),
        )
        self._repo.add(row)
        return CreatedKey(row=row, plaintext=key.plaintext)

    def list(self) -> Sequence[ApiKey]:
        return self._session.scalars(self._repo.query().order_by(ApiKey.created_at.desc())).all()

    def revoke(self, key_id: uuid.UUID) -> ApiKey:
        row = self._repo.get(key_id)
        if row is None:
            raise LookupError(f"api key {key_id} not found")
        if row.revoked_at is None:
            row.revoked_at = self._now()
            self._session.flush()
        return row


def authenticate_api_key(
    session: Session, plaintext: str, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> KeyIdentity | None:
    """The identity of a valid key, or None (unscoped session: the key names its organisation)."""
    parts = split_api_key(plaintext)
    if parts is None:
        return None
    prefix, secret = parts
    found = session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.prefix == prefix)
    ).first()
    if found is None:
        return None
    key, user = found
    if key.revoked_at is not None or not user.is_active or not is_role(user.role):
        return None
    if not verify_api_key(key.key_hash, secret):
        return None
    key.last_used_at = now()
    return KeyIdentity(
        key_id=key.id,
        user_id=user.id,
        organization_id=user.organization_id,
        role=user.role,  # type: ignore[arg-type]
    )
