"""Slack incoming webhooks: a notice as a Block Kit message.

Contract:
- :func:`slack_payload` builds ``{"text": fallback, "blocks": [...]}``: a ``header`` (the title), a ``section``
  with the summary and the facts as ``fields`` (amount first; ten fields per section as Slack allows, more
  facts continue in further sections), an ``actions`` block with a ``button`` to the notice's link (when it
  has one), and a ``context`` block (severity, event type, time). Text is cut to Slack's limits and ``&``,
  ``<``, ``>`` are escaped as Slack's mrkdwn requires, so a notice's text cannot inject links or mentions.
- :class:`SlackChannel` POSTs it to a ``hooks.slack.com`` (or ``hooks.slack-gov.com``) URL; other hosts are
  refused before any connection unless ``allow_insecure_localhost`` and the host is local (channels.py).
"""

from __future__ import annotations

from typing import Any

from cloudoptima.domain.notices import Notice
from cloudoptima.notifications.http_delivery import VendorWebhookChannel
from cloudoptima.notifications.render import context_line, display_facts

SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
_FIELDS_PER_SECTION = 10


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    """The Block Kit message for ``notice`` (see module contract)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(notice.title, 150), "emoji": False}}
    ]
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{_escape(label)}*\n{_escape(value)}", 2000)}
        for label, value in display_facts(notice)
    ]
    summary = _cut(_escape(notice.summary), 3000)
    first: dict[str, Any] = {"type": "section"}
    if summary:
        first["text"] = {"type": "mrkdwn", "text": summary}
    if fields:
        first["fields"] = fields[:_FIELDS_PER_SECTION]
    if len(first) > 1:
        blocks.append(first)
    for start in range(_FIELDS_PER_SECTION, len(fields), _FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + _FIELDS_PER_SECTION]})
    if notice.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in CloudOptima"},
                        "url": notice.link,
                        "action_id": "open",
                    }
                ],
            }
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(context_line(notice))}]}
    )
    return {"text": _cut(f"{notice.title}: {notice.summary}", 3000), "blocks": blocks}


class SlackChannel(VendorWebhookChannel):
    """Delivers notices to Slack incoming webhooks (see module contract)."""

    name = "slack"
    hosts = SLACK_HOSTS

    def payload(self, notice: Notice) -> dict[str, Any]:
        return slack_payload(notice)
