"""Project-level routes of the REST fake: the OAuth token endpoint, Resource Manager (project, IAM permissions and
policy), Recommender, Cloud Asset and Cloud SQL Admin ``instances.list``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from cloudoptima_evals.fakes.gcp.errors import page
from cloudoptima_evals.fakes.gcp.state import FakeGcp

Reply = tuple[int, dict[str, Any]]
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The audience google-auth signs assertions for whatever the key's ``token_uri`` (Google accepts both)."""


class ProjectRoutes:
    """Mixed into the fake's route table; needs ``s`` (state), ``need`` and ``table`` (the Compute collections)."""

    s: FakeGcp
    need: Callable[[str, str], None]  # the permission check of the class this is mixed into
    table: Callable[[str], dict[str, dict[str, Any]]]  # the Compute collection by name (ComputeRoutes)

    def token(self, raw: bytes, token_uri: str) -> Reply:
        """RFC 7523 JWT-bearer grant: a JWT assertion signed by a registered key, for this token endpoint."""
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        claims = self.s.verified_jwt(form.get("assertion", ""), audience=[token_uri, GOOGLE_TOKEN_AUDIENCE])
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if "cloud-platform" not in str(claims.get("scope", "")):
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}
        issued = f"ya29.fake-{self.s.next_id()}"
        with self.s.lock:
            self.s.issued_tokens.add(issued)
        return 200, {"access_token": issued, "expires_in": 3599, "token_type": "Bearer"}

    # ----- resource manager / recommender / asset -------------------------------------------------

    def project_get(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("resourcemanager.projects.get", f"projects/{m['p']}")
        return 200, {
            "name": "projects/123456789",
            "projectId": self.s.project,
            "state": "ACTIVE",
            "displayName": "FinOps demo",
        }

    def test_perms(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        held = [p for p in body.get("permissions", []) if p in self.s.permissions]
        return 200, ({"permissions": held} if held else {})

    def get_policy(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("resourcemanager.projects.getIamPolicy", f"projects/{m['p']}")
        return 200, {"version": 3, "etag": "BwX=", "bindings": self.s.bindings}

    def recommendations(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        kind = "Idle" if "Idle" in m["r"] else "MachineType"
        self.need(
            f"recommender.computeInstance{kind}{'Resource' if kind == 'Idle' else ''}Recommendations.list",
            f"projects/{m['p']}",
        )
        found = self.s.recommendations.get((m["z"], m["r"]), [])
        chunk, token = page(found, q.get("pageToken", ""), self.s.page_size)
        return 200, {"recommendations": chunk, **({"nextPageToken": token} if token else {})}

    def assets(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("cloudasset.assets.listResource", f"projects/{m['p']}")
        kinds = {
            "instances": "Instance",
            "disks": "Disk",
            "snapshots": "Snapshot",
            "addresses": "Address",
            "forwardingRules": "ForwardingRule",
        }
        assets = [
            {
                "name": f"//compute.googleapis.com/{o['selfLink'].split('/v1/')[1]}",
                "assetType": f"compute.googleapis.com/{kind}",
                "resource": {"version": "v1", "data": o},
            }
            for coll, kind in kinds.items()
            for o in self.table(coll).values()
        ]
        chunk, token = page(assets, q.get("pageToken", ""), self.s.page_size)
        return 200, {"assets": chunk, **({"nextPageToken": token} if token else {})}

    def sql_instances(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        """Cloud SQL Admin ``instances.list``: ``items`` + ``nextPageToken``, at most ``maxResults`` a page."""
        self.need("cloudsql.instances.list", f"projects/{m['p']}")
        found = [self.s.sql_instances[n] for n in sorted(self.s.sql_instances)]
        size = min(int(q.get("maxResults") or 500), self.s.page_size)
        chunk, token = page(found, q.get("pageToken", ""), size)
        return 200, {
            "kind": "sql#instancesList",
            **({"items": chunk} if chunk else {}),
            **({"nextPageToken": token} if token else {}),
        }
