"""The gateway's handle on the revocation markers (``cloudoptima.services.revocation``)."""

from __future__ import annotations

from cloudoptima.services.revocation import Revocation, RevocationMarks
from cloudoptima_gateway.runtime import Runtime


def marks(runtime: Runtime) -> RevocationMarks:
    """Markers kept for one access-token lifetime, on the gateway's Redis."""
    return RevocationMarks(runtime.redis(), access_ttl=runtime.issuer().access_ttl)


async def revoke(runtime: Runtime, revocation: Revocation) -> None:
    """Mark ``revocation`` (after its database change committed) and tell the open sockets."""
    await marks(runtime).apply(revocation)
