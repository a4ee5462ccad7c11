"""Notification delivery activities: every due delivery through the kernel's ``NotificationDelivery``."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.notification_delivery import NotificationDelivery, organisations_with_due_deliveries
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.notifications.inputs import DeliverDueInput, DeliverDueResult
from cloudoptima_workflows.notifications.interface import NotificationActivityInterface

log = logging.getLogger(__name__)


class NotificationActivities(NotificationActivityInterface):
    """Activities bound to the database, the encryption key ring (channel targets are stored encrypted) and
    the SMTP sender (``None``: email deliveries fail permanently, saying so)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        encryption_keys: Sequence[str],
        smtp: SmtpSender | None,
        *,
        allow_insecure_localhost: bool = False,
    ) -> None:
        self._sessions = sessions
        self._keys = tuple(encryption_keys)
        self._smtp = smtp
        self._allow_local = allow_insecure_localhost

    @activity.defn(name="notifications.deliver_due")
    def deliver_due(self, params: DeliverDueInput) -> DeliverDueResult:
        """Attempt every delivery due at ``params.now``, organisation by organisation (one organisation's
        failure is logged and reported, and never stops the others), and record each outcome."""
        if not self._keys:
            raise ApplicationError(
                "no encryption key is configured: channel targets cannot be read", non_retryable=True
            )
        cipher = CredentialCipher(self._keys)
        with self._sessions() as session:
            organisations = organisations_with_due_deliveries(session, params.now)
        counts = {"delivered": 0, "pending": 0, "dead": 0}
        failed: list[str] = []
        for organization_id in organisations:
            try:
                with tenant_session(self._sessions, organization_id) as session:
                    views = NotificationDelivery(
                        session,
                        organization_id,
                        cipher=cipher,
                        smtp=self._smtp,
                        allow_insecure_localhost=self._allow_local,
                    ).deliver_due(params.now, params.limit)
            except Exception:
                log.exception("notification delivery failed for organisation %s", organization_id)
                failed.append(str(organization_id))
                continue
            for view in views:
                counts[view.status] += 1
        return DeliverDueResult(
            organisations=len(organisations),
            delivered=counts["delivered"],
            retrying=counts["pending"],
            dead=counts["dead"],
            failed_organisations=failed,
        )
