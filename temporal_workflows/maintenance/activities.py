"""Maintenance activities: database I/O through the kernel's storage layer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from cloudoptima.storage.base import utcnow
from cloudoptima.storage.models import RefreshToken, RevokedToken
from temporal_workflows.maintenance.inputs import CleanupInput, CleanupResult


class MaintenanceActivities:
    """Activities bound to a session factory (wired in ``worker.main``)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="maintenance.purge_expired_tokens")
    def purge_expired_tokens(self, params: CleanupInput) -> CleanupResult:
        """Delete revoked access-token ids and refresh tokens that expired before the grace window."""
        cutoff = utcnow() - timedelta(days=params.grace_days)
        with self._sessions() as session, session.begin():
            revoked = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < cutoff))
            refresh = session.execute(delete(RefreshToken).where(RefreshToken.expires_at < cutoff))
        return CleanupResult(
            revoked_tokens_deleted=int(revoked.rowcount or 0),  # type: ignore[attr-defined]
            refresh_tokens_deleted=int(refresh.rowcount or 0),  # type: ignore[attr-defined]
        )
