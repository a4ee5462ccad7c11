"""The caller's missing permissions on the project, from ``projects.testIamPermissions``."""

from __future__ import annotations

from google.cloud import resourcemanager_v3
from google.iam.v1 import iam_policy_pb2

from cloudoptima.clouds.gcp.session import GcpSession


def missing_permissions(session: GcpSession, permissions: list[str]) -> list[str]:
    """Those of ``permissions`` the caller lacks on the project (``testIamPermissions``)."""
    client = session.rest_client("resourcemanager", resourcemanager_v3.ProjectsClient)
    request = iam_policy_pb2.TestIamPermissionsRequest(
        resource=f"projects/{session.project}", permissions=permissions
    )
    held = session.call(
        lambda: client.test_iam_permissions(request=request, retry=session.retry),
        "resourcemanager/testIamPermissions",
    )
    return [p for p in permissions if p not in set(held.permissions)]
