"""Microsoft Teams incoming webhooks (and Power Automate "Workflows" webhooks): a notice as an Adaptive Card.

Contract:
- :func:`teams_payload` builds the message Teams expects, ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": card}]}``, where the card (version 1.4) has a bold
  ``TextBlock`` title, a wrapped ``TextBlock`` summary, a ``FactSet`` (amount first, then the facts), a small
  ``TextBlock`` context line (severity, event type, time) and an ``Action.OpenUrl`` to the notice's link (when
  it has one).
- :class:`TeamsChannel` POSTs it to a host under ``webhook.office.com``, ``logic.azure.com`` or
  ``api.powerplatform.com``; other hosts are refused before any connection unless ``allow_insecure_localhost``
  and the host is local (channels.py).
"""

from __future__ import annotations

from typing import Any

from cloudoptima.domain.notices import Notice, NoticeSeverity
from cloudoptima.notifications.http_delivery import VendorWebhookChannel
from cloudoptima.notifications.render import context_line, display_facts

TEAMS_HOSTS = ("webhook.office.com", "logic.azure.com", "api.powerplatform.com")
_COLORS = {
    NoticeSeverity.INFO: "Default",
    NoticeSeverity.WARNING: "Warning",
    NoticeSeverity.CRITICAL: "Attention",
}


def adaptive_card(notice: Notice) -> dict[str, Any]:
    """The Adaptive Card for ``notice`` (see module contract)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": notice.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": _COLORS[notice.severity],
        }
    ]
    if notice.summary:
        body.append({"type": "TextBlock", "text": notice.summary, "wrap": True})
    facts = display_facts(notice)
    if facts:
        body.append(
            {"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in facts]}
        )
    body.append(
        {"type": "TextBlock", "text": context_line(notice), "isSubtle": True, "size": "Small", "wrap": True}
    )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if notice.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in CloudOptima", "url": notice.link}]
    return card


def teams_payload(notice: Notice) -> dict[str, Any]:
    """The Teams webhook message carrying :func:`adaptive_card` (see module contract)."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(notice),
            }
        ],
    }


class TeamsChannel(VendorWebhookChannel):
    """Delivers notices to Teams webhooks (see module contract)."""

    name = "teams"
    hosts = TEAMS_HOSTS

    def payload(self, notice: Notice) -> dict[str, Any]:
        return teams_payload(notice)
