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

import json
from typing import Any

from cloudoptima.domain.notices import Notice, NoticeSeverity
from cloudoptima.notifications.channels import DeliveryReceipt, check_webhook_url
from cloudoptima.notifications.http_delivery import post_json
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


class TeamsChannel:
    """Delivers notices to Teams webhooks (see module contract)."""

    name = "teams"

    def __init__(self, *, allow_insecure_localhost: bool = False, timeout_s: float = 10.0) -> None:
        self._allow_local = allow_insecure_localhost
        self._timeout = timeout_s

    def deliver(self, notice: Notice, target: str) -> DeliveryReceipt:
        """One POST of the card message to the webhook URL ``target`` (channels.py contract)."""
        check_webhook_url(
            target,
            channel=self.name,
            allowed_host_suffixes=TEAMS_HOSTS,
            allow_insecure_localhost=self._allow_local,
        )
        body = json.dumps(teams_payload(notice), ensure_ascii=False).encode()
        return post_json(
            channel=self.name,
            url=target,
            body=body,
            idempotency_key=notice.idempotency_key,
            timeout_s=self._timeout,
        )
