"""Strict local fakes of the GitHub Issues REST API and Jira Cloud REST v3 (the calls tickets make), on a real
socket. Bearer auth (GitHub) and basic auth ``email:token`` (Jira) are checked; unknown repos, projects and issues
answer 404, bad fields 422 (GitHub) / 400 (Jira); ``fail_next`` makes the next calls answer a status with
``Retry-After`` (``retry_after``, 0 unless set). Also a webhook receiver at ``/hook`` that verifies the CloudOptima signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cloudoptima.notifications.webhook_signature import SignatureError, verify_signature

GITHUB_TOKEN = "gh-token"
JIRA_LOGIN, JIRA_TOKEN = "ops@acme.test", "jira-token"
HOOK_SECRET = "hook-secret"
REPO, PROJECT = "acme/infra", "OPS"


@dataclass
class TrackerState:
    github: dict[int, dict[str, Any]] = field(default_factory=dict)
    jira: dict[str, dict[str, Any]] = field(default_factory=dict)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    retry_after: str = "0"
    repo_hidden: bool = False
    """True: the repository answers 404 as GitHub does when the token lost access to it."""
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: FakeTrackers

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, code: int, data: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        body = self._body() if method == "POST" else b""
        with state.lock:
            state.calls.append(f"{method} {url.path}")
            if state.fail_next:
                code = state.fail_next.pop(0)
                self._answer(code, {"message": "try later"}, {"Retry-After": state.retry_after})
                return
            if url.path.startswith("/repos/"):
                self._github(method, url.path, body)
            elif url.path.startswith("/rest/api/3/"):
                self._jira(method, url.path, parse_qs(url.query), body)
            elif url.path == "/hook" and method == "POST":
                self._hook(body)
            else:
                self._answer(404, {"message": "Not Found"})

    def _github(self, method: str, path: str, body: bytes) -> None:
        if self.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            self._answer(401, {"message": "Bad credentials"})
            return
        issues = self.server.state.github
        whole = re.fullmatch(r"/repos/([^/]+/[^/]+)", path)
        if whole and method == "GET":
            if whole.group(1) == REPO and not self.server.state.repo_hidden:
                self._answer(200, {"full_name": REPO})
            else:
                self._answer(404, {"message": "Not Found"})
            return
        create = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues", path)
        read = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)", path)
        repo = (create or read).group(1) if (create or read) else None  # type: ignore[union-attr]
        if repo != REPO or self.server.state.repo_hidden:
            self._answer(404, {"message": "Not Found"})
            return
        if create and method == "POST":
            data = json.loads(body)
            if not isinstance(data.get("title"), str) or not data["title"]:
                self._answer(422, {"message": "Validation Failed", "errors": [{"field": "title"}]})
                return
            number = len(issues) + 1
            issues[number] = {
                "number": number, "title": data["title"], "body": data.get("body"), "state": "open",
                "state_reason": None, "html_url": f"https://github.com/{REPO}/issues/{number}",
            }  # fmt: skip
            self._answer(201, issues[number])
        elif read and method == "GET" and int(read.group(2)) in issues:
            issue = issues[int(read.group(2))]
            if issue.get("gone") == 410:  # deleted: GitHub answers 410 Gone
                self._answer(410, {"message": "This issue was deleted"})
            elif issue.get("gone") == 301:  # transferred: 301 to the issue's new place
                self._answer(301, {"message": "Moved Permanently", "url": "https://api.github.com/x"})
            else:
                self._answer(200, issue)
        else:
            self._answer(404, {"message": "Not Found"})

    def _jira(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        expected = base64.b64encode(f"{JIRA_LOGIN}:{JIRA_TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._answer(401, {"errorMessages": ["Client must be authenticated to access this resource."]})
            return
        issues = self.server.state.jira
        if path == "/rest/api/3/issue" and method == "POST":
            fields = json.loads(body).get("fields", {})
            description = fields.get("description") or {}
            if (fields.get("project") or {}).get("key") != PROJECT:
                self._answer(400, {"errors": {"project": "valid project is required"}})
                return
            if (
                description.get("type") != "doc"
                or description.get("version") != 1
                or not fields.get("summary")
            ):
                self._answer(
                    400, {"errors": {"description": "Operation value must be an Atlassian Document"}}
                )
                return
            key = f"{PROJECT}-{len(issues) + 1}"
            issues[key] = {"fields": fields, "status": "To Do", "category": "new", "resolution": None}
            self._answer(
                201, {"id": str(10000 + len(issues)), "key": key, "self": f"/rest/api/3/issue/{key}"}
            )
            return
        project = re.fullmatch(r"/rest/api/3/project/([A-Z]+)", path)
        if project and method == "GET":
            if project.group(1) == PROJECT:
                self._answer(200, {"key": PROJECT})
            else:
                self._answer(404, {"errorMessages": ["No project could be found with key."]})
            return
        read = re.fullmatch(r"/rest/api/3/issue/([A-Z]+-\d+)", path)
        if read and method == "GET" and read.group(1) in issues:
            if query.get("fields") != ["status,resolution"]:
                self._answer(400, {"errorMessages": ["expected fields=status,resolution"]})
                return
            issue = issues[read.group(1)]
            resolution = None if issue["resolution"] is None else {"name": issue["resolution"]}
            fields_out = {
                "status": {"name": issue["status"], "statusCategory": {"key": issue["category"]}},
                "resolution": resolution,
            }
            self._answer(200, {"key": read.group(1), "fields": fields_out})
            return
        self._answer(
            404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
        )

    def _hook(self, body: bytes) -> None:
        try:
            verify_signature(
                HOOK_SECRET,
                self.headers.get("X-CloudOptima-Timestamp", ""),
                body,
                self.headers.get("X-CloudOptima-Signature", ""),
                datetime.now(UTC),
            )
        except SignatureError:
            self._answer(401, {"message": "bad signature"})
            return
        data = json.loads(body)
        self.server.state.hooks.append(data)
        self._answer(
            200, {"key": f"WH-{len(self.server.state.hooks)}", "url": "https://tickets.example.test/1"}
        )


def github_delivery(
    secret: str, event: str, payload: dict[str, Any], delivery: str
) -> tuple[bytes, dict[str, str]]:
    """A webhook delivery as GitHub sends it: body and headers, ``X-Hub-Signature-256`` = HMAC-SHA256(body)."""
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }  # fmt: skip


def jira_delivery(secret: str, payload: dict[str, Any], delivery: str) -> tuple[bytes, dict[str, str]]:
    """A Jira Cloud admin webhook with a secret: ``X-Hub-Signature: sha256=<HMAC-SHA256(body)>``."""
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": delivery,
        "X-Hub-Signature": f"sha256={digest}",
    }  # fmt: skip


class FakeTrackers(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = TrackerState()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeTrackers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
