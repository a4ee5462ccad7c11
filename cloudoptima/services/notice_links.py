"""Where a notice about one thing sends its reader: the web console's page, else the thing in the API.

One table (:data:`TARGETS`) names, per kind of thing, its console page (the routes of ``web/src/App.tsx``:
detail pages ``/anomalies/<id>``, ``/recommendations/<id>``, ``/approvals/<execution id>``,
``/policies/<id>``; list pages ``/reports``, ``/budgets``, ``/accounts``) and its API path. Every notice
builder (event notices, approvals and execution progress, reports, budget alerts, collection failures) takes
its links from :func:`notice_links` instead of building its own.

- ``console_url``: the console's base URL (``Settings.resolved_console_url``: ``CLOUDOPTIMA_CONSOLE_URL``, else
  the gateway's public URL when it serves the console; None for a headless install). With it, the inbox and
  channels both get ``{console_url}{console path}`` (a console URL that is a path, e.g. ``/console``, is made
  absolute under ``public_url`` for channels).
- Without it, the inbox gets the API path (the inbox is read through the API) and channels the absolute
  ``{public_url}{api path}`` (``public_url``: ``Settings.resolved_public_url``); without either, channels get
  no link (a channel link must be absolute).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

LinkKind = Literal["anomaly", "recommendation", "execution", "report", "budget", "account", "policy"]


@dataclass(frozen=True)
class LinkTarget:
    """The console page and the API path of one kind of thing; ``{id}`` is replaced by its id."""

    console: str
    api: str


TARGETS: Final[dict[LinkKind, LinkTarget]] = {
    "anomaly": LinkTarget("/anomalies/{id}", "/v1/costs/anomalies/{id}"),
    "recommendation": LinkTarget("/recommendations/{id}", "/v1/recommendations/{id}"),
    # an execution (remediation, approval, progress) is shown, with its plan and decisions, on its approval page
    "execution": LinkTarget("/approvals/{id}", "/v1/executions/{id}"),
    "report": LinkTarget("/reports", "/v1/reports/{id}"),
    "budget": LinkTarget("/budgets", "/v1/budgets/{id}"),
    "account": LinkTarget("/accounts", "/v1/cloud-accounts/{id}"),
    "policy": LinkTarget("/policies/{id}", "/v1/policies/{id}"),
}


def _absolute(url: str | None) -> str | None:
    return url.rstrip("/") if url and url.startswith(("http://", "https://")) else None


def console_path(kind: LinkKind, thing_id: uuid.UUID | str) -> str:
    """The console page of one thing (a path, e.g. ``/anomalies/<id>``)."""
    return TARGETS[kind].console.format(id=thing_id)


def api_path(kind: LinkKind, thing_id: uuid.UUID | str) -> str:
    """The API path of one thing (e.g. ``/v1/costs/anomalies/<id>``)."""
    return TARGETS[kind].api.format(id=thing_id)


def notice_links(
    kind: LinkKind, thing_id: uuid.UUID | str, console_url: str | None, public_url: str | None
) -> tuple[str, str | None]:
    """(the inbox's link, the channels' absolute link or None) of one thing (see the module contract)."""
    console = (console_url or "").strip().rstrip("/")
    base = _absolute(public_url)
    if console:
        link = f"{console}{console_path(kind, thing_id)}"
        if _absolute(console):
            return link, link
        return link, f"{base}{link}" if base else None  # a console path under the gateway's address
    path = api_path(kind, thing_id)
    return path, f"{base}{path}" if base else None
