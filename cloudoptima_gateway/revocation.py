"""The gateway's handle on the revocation markers (``cloudoptima.services.revocation``)."""

from __future__ import annotations

import uuid

from cloudoptima.services.api_key_cache import mark_key_changed, mark_user_keys_changed
from cloudoptima.services.revocation import Revocation, RevocationMarks
from cloudoptima_gateway.runtime import Runtime


def marks(runtime: Runtime) -> RevocationMarks:
    """Markers kept for one access-token lifetime, on the gateway's Redis."""
    return RevocationMarks(runtime.redis(), access_ttl=runtime.issuer().access_ttl)


async def revoke(runtime: Runtime, revocation: Revocation) -> None:
    """Mark ``revocation`` (after its database change committed) and tell the open sockets; the user's API keys
    are verified against the database again in every gateway process (a role change or a deactivation)."""
    await marks(runtime).apply(revocation)
    await mark_user_keys_changed(
        runtime.redis(), revocation.user_id, ttl_s=runtime.settings.api_key_cache_seconds
    )
    runtime.key_cache().drop_user(revocation.user_id)


async def key_revoked(runtime: Runtime, key_id: uuid.UUID) -> None:
    """After a key's revocation committed: every gateway process verifies it against the database again."""
    await mark_key_changed(runtime.redis(), key_id, ttl_s=runtime.settings.api_key_cache_seconds)
    runtime.key_cache().drop_key(key_id)
