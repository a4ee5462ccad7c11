"""GCP implementation of the provider protocol: one project per :class:`GcpProvider`."""

from cloudoptima.clouds.gcp.provider import GcpProvider
from cloudoptima.clouds.gcp.session import GcpSettings

__all__ = ["GcpProvider", "GcpSettings"]
