"""Azure implementation of the provider protocol (one subscription per :class:`AzureProvider`)."""

from cloudoptima.clouds.azure.provider import AzureProvider

__all__ = ["AzureProvider"]
