"""What a caller outside the gateway needs to open tickets (#22): the credential keys, the URL rule, the links.

:class:`TicketsConfig` is built once by a composition root (:func:`tickets_config_from_settings`) and handed to
the MCP tool ``recommendation_ticket`` through its context, so it opens tickets exactly as
``POST /v1/recommendations/{id}/ticket`` does (same cipher keys, same localhost rule, same console link).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.notice_links import notice_links
from cloudoptima.settings import Settings


@dataclass(frozen=True)
class TicketsConfig:
    encryption_keys: tuple[str, ...]
    allow_insecure_localhost: bool = False
    console_url: str | None = None
    public_url: str | None = None

    def cipher(self) -> CredentialCipher:
        return CredentialCipher(list(self.encryption_keys))

    def console_link(self, recommendation_id: uuid.UUID) -> str | None:
        """The absolute link to the recommendation in the console (None without a public URL)."""
        return notice_links("recommendation", recommendation_id, self.console_url, self.public_url)[1]


def tickets_config_from_settings(settings: Settings) -> TicketsConfig:
    return TicketsConfig(
        encryption_keys=tuple(settings.resolved_encryption_keys),
        allow_insecure_localhost=settings.notifications_allow_insecure_localhost,
        console_url=settings.resolved_console_url,
        public_url=settings.resolved_public_url,
    )
