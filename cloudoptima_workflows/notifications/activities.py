"""Notification delivery activities: every due delivery through the kernel's ``NotificationDelivery``."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.digests import send_due
from cloudoptima.services.events import Publish
from cloudoptima.services.notification_delivery import NotificationDelivery, organisations_with_due_deliveries
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.notifications.inputs import (
    DeliverDueInput,
    DeliverDueResult,
    SendDigestsResult,
    SendDueDigestsInput,
)
from cloudoptima_workflows.notifications.interface import NotificationActivityInterface

log = logging.getLogger(__name__)


class NotificationActivities(NotificationActivityInterface):
    """Activities bound to the database, the encryption key ring (channel targets are stored encrypted) and
    the SMTP sender (``None``: email deliveries fail permanently, saying so; email digests wait, recording
    why). Digests link to ``public_url`` (``Settings.resolved_public_url``) and in-app digests are announced
    through ``publish``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        encryption_keys: Sequence[str],
        smtp: SmtpSender | None,
        *,
        allow_insecure_localhost: bool = False,
        public_url: str = "http://127.0.0.1:8000",
        publish: Publish | None = None,
    ) -> None:
        self._sessions = sessions
        self._keys = tuple(encryption_keys)
        self._smtp = smtp
        self._allow_local = allow_insecure_localhost
        self._public_url = public_url
        self._publish = publish

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

    @activity.defn(name="notifications.send_digests")
    def send_digests(self, params: SendDueDigestsInput) -> SendDigestsResult:
        """Send every per-user digest due at ``params.now``; each user's outcome is recorded on their
        subscription and one user's failure never stops the others (``cloudoptima.services.digests``)."""
        result = send_due(
            self._sessions, params.now, smtp=self._smtp, base_url=self._public_url, publish=self._publish
        )
        return SendDigestsResult(due=result.due, sent=result.sent, failed_users=result.failed)
