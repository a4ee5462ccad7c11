"""HTTP clients of the ticket trackers (#22): GitHub Issues REST, Jira Cloud REST v3 and a signed generic webhook.

Contract:
- One :class:`TrackerClient` per tracker connection, over a caller-given ``httpx.Client`` (timeouts set by the
  caller). ``create`` opens an issue and answers ``(external key, browser URL)``; ``state`` reads it back as
  ``open`` | ``completed`` | ``not_planned`` | ``gone`` (the issue read answered 301 moved, 404 or 410: deleted
  or transferred). A 404 counts only when the repository (GitHub) or project (Jira) still reads: a token that lost
  access sees 404 everywhere, which raises :class:`TrackerError` instead of losing every ticket.
- Retries: a 5xx or 429 answer (or a transport error) is tried again up to ``ATTEMPTS`` times in all, waiting the
  answer's ``Retry-After`` seconds (capped at ``MAX_WAIT_S``) else ``1, 2, 4`` s; ``sleep`` is the caller's (tests
  record the waits). Every attempt is appended to ``attempts`` (status or error) so callers can show them.
- Any other failure raises :class:`TrackerError` naming the tracker (its name and kind) and what went wrong
  (401/403: the token was refused; 404: project or issue not found; 422: the tracker refused the fields).
- GitHub: ``POST /repos/{owner}/{repo}/issues`` and ``GET /repos/{owner}/{repo}/issues/{number}`` with
  ``Authorization: Bearer``; closed with ``state_reason`` ``not_planned`` is ``not_planned``, other closes
  ``completed``.
- Jira Cloud: ``POST /rest/api/3/issue`` (description in Atlassian Document Format, issue type ``Task``) and
  ``GET /rest/api/3/issue/{key}?fields=status,resolution`` with basic auth ``login:token``; status category
  ``done`` is closed, ``not_planned`` when the resolution is one of :data:`JIRA_NOT_PLANNED`.
- Webhook: ``POST`` of a JSON ticket request to the base URL signed as notification webhooks are
  (``X-CloudOptima-Signature`` over ``<timestamp>.<body>``, token as secret; docs/webhooks.md); the receiver may
  answer ``{"key", "url"}``; there is no state to read back, so it stays ``open``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

import httpx

from cloudoptima.notifications.webhook_signature import sign

TicketState = Literal["open", "completed", "not_planned", "gone"]
GONE_CODES: Final = frozenset({301, 404, 410})
"""Answers to reading one issue that mean it was deleted (404/410) or transferred (GitHub's 301)."""
ATTEMPTS: Final = 3
MAX_WAIT_S: Final = 30.0
JIRA_NOT_PLANNED: Final = frozenset(
    {"won't do", "won't fix", "declined", "not planned", "duplicate", "cannot reproduce"}
)


class TrackerError(RuntimeError):
    """A tracker refused or failed a call; the message names the tracker."""


@dataclass(frozen=True)
class TicketDraft:
    """What goes into a ticket."""

    recommendation_id: str
    title: str
    savings_monthly: Decimal | None
    currency: str
    resources: list[str]
    link: str | None
    description: str | None

    def lines(self) -> list[str]:
        savings = "unknown" if self.savings_monthly is None else f"{self.savings_monthly:.2f} {self.currency}"
        out = [f"Estimated savings: {savings} per month", f"Resources: {', '.join(self.resources) or 'none'}"]
        if self.description:
            out.append(self.description)
        if self.link:
            out.append(f"In CloudOptima: {self.link}")
        out.append(f"CloudOptima recommendation {self.recommendation_id}")
        return out


@dataclass
class TrackerClient:
    """One tracker connection (see module contract)."""

    name: str
    kind: str
    base_url: str
    project: str
    token: str
    login: str | None
    http: httpx.Client
    sleep: Callable[[float], None] = time.sleep
    attempts: list[str] = field(default_factory=list)

    def _who(self) -> str:
        return f"tracker '{self.name}' ({self.kind})"

    def _send(self, method: str, url: str, *, gone_ok: bool = False, **kwargs: Any) -> httpx.Response:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                self.attempts.append(f"error: {type(exc).__name__}")
                if attempt == ATTEMPTS:
                    raise TrackerError(f"{self._who()}: cannot reach {url}: {exc}") from exc
                self.sleep(float(2 ** (attempt - 1)))
                continue
            self.attempts.append(str(response.status_code))
            if gone_ok and response.status_code in GONE_CODES:
                return response
            if response.status_code < 500 and response.status_code != 429:
                return _checked(self._who(), response)
            if attempt == ATTEMPTS:
                raise TrackerError(f"{self._who()}: answered {response.status_code} {ATTEMPTS} times")
            self.sleep(_wait(response, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise TrackerError(f"{self._who()}: answer is not JSON") from exc
        if not isinstance(data, dict):
            raise TrackerError(f"{self._who()}: answer is not a JSON object")
        return data

    def _root(self) -> str:
        return self.base_url.rstrip("/")

    def create(self, draft: TicketDraft, *, idempotency_key: str) -> tuple[str, str]:
        """Open the ticket; ``(external key, URL)``."""
        if self.kind == "github":
            body = "\n\n".join(draft.lines())
            data = self._json(
                self._send(
                    "POST",
                    f"{self._root()}/repos/{self.project}/issues",
                    json={"title": draft.title, "body": body},
                    headers=self._github_headers(),
                )
            )
            return str(data["number"]), str(data["html_url"])
        if self.kind == "jira":
            description = {
                "type": "doc",
                "version": 1,
                "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": line}]}
                    for line in draft.lines()
                ],
            }
            fields = {
                "project": {"key": self.project},
                "summary": draft.title[:255],
                "issuetype": {"name": "Task"},
                "description": description,
            }
            data = self._json(
                self._send(
                    "POST", f"{self._root()}/rest/api/3/issue", json={"fields": fields}, auth=self._basic()
                )
            )
            key = str(data["key"])
            return key, f"{self._root()}/browse/{key}"
        payload = {
            "event": "ticket.requested",
            "id": idempotency_key,
            "project": self.project,
            "title": draft.title,
            "recommendation_id": draft.recommendation_id,
            "savings_monthly": None if draft.savings_monthly is None else f"{draft.savings_monthly:.2f}",
            "currency": draft.currency,
            "resources": draft.resources,
            "link": draft.link,
            "body": "\n\n".join(draft.lines()),
        }
        raw = json.dumps(payload, separators=(",", ":")).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-CloudOptima-Signature": sign(self.token, stamp, raw),
            "X-CloudOptima-Timestamp": str(stamp),
            "X-CloudOptima-Delivery": idempotency_key,
        }
        response = self._send("POST", self.base_url, content=raw, headers=headers)
        answer: dict[str, Any] = {}
        if response.content:
            try:
                loaded = response.json()
            except ValueError:
                loaded = {}
            answer = loaded if isinstance(loaded, dict) else {}
        return str(answer.get("key") or idempotency_key), str(answer.get("url") or self.base_url)

    def state(self, external_key: str) -> TicketState:
        """The ticket's state now (``open`` for a webhook: nothing to read)."""
        if self.kind == "github":
            response = self._send(
                "GET",
                f"{self._root()}/repos/{self.project}/issues/{external_key}",
                headers=self._github_headers(),
                gone_ok=True,
            )
            if response.status_code == 404:  # GitHub hides repos the token cannot see behind 404 too
                self._send("GET", f"{self._root()}/repos/{self.project}", headers=self._github_headers())
            if response.status_code in GONE_CODES:
                return "gone"
            data = self._json(response)
            if data.get("state") != "closed":
                return "open"
            return "not_planned" if data.get("state_reason") == "not_planned" else "completed"
        if self.kind == "jira":
            response = self._send(
                "GET",
                f"{self._root()}/rest/api/3/issue/{external_key}",
                params={"fields": "status,resolution"},
                auth=self._basic(),
                gone_ok=True,
            )
            if (
                response.status_code == 404
            ):  # "does not exist or you do not have permission": check the project
                self._send("GET", f"{self._root()}/rest/api/3/project/{self.project}", auth=self._basic())
            if response.status_code in GONE_CODES:
                return "gone"
            data = self._json(response)
            fields = data.get("fields") or {}
            category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
            if category != "done":
                return "open"
            resolution = str((fields.get("resolution") or {}).get("name") or "").strip().lower()
            return "not_planned" if resolution in JIRA_NOT_PLANNED else "completed"
        return "open"

    def _github_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def _basic(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.login or "", self.token)


def _wait(response: httpx.Response, attempt: int) -> float:
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        return min(float(header), MAX_WAIT_S)
    return float(2 ** (attempt - 1))


def _checked(who: str, response: httpx.Response) -> httpx.Response:
    code = response.status_code
    if code < 400:
        return response
    if code in (401, 403):
        raise TrackerError(f"{who}: the token was refused ({code}); check the token and its scopes")
    if code == 404:
        raise TrackerError(f"{who}: not found (404); check the base URL, project and issue")
    snippet = response.text[:300]
    if code == 422 or code == 400:
        raise TrackerError(f"{who}: refused the ticket's fields ({code}): {snippet}")
    raise TrackerError(f"{who}: answered {code}: {snippet}")
