"""How each cloud names itself and its services in FOCUS 1.2 billing data.

Provider, publisher and service names follow the providers' own FOCUS exports (AWS Data Exports "FOCUS 1.2
with AWS columns", Microsoft FocusCost as mapped by the FinOps toolkit ``Services.csv``, Google Cloud FOCUS
export). Region display names follow the providers' region lists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cloudoptima.domain.inventory import CloudProvider, ResourceKind


@dataclass(frozen=True)
class ServiceLabel:
    """FOCUS ServiceName / ServiceCategory / ServiceSubcategory and the provider's resource type."""

    name: str
    category: str
    subcategory: str
    resource_type: str


@dataclass(frozen=True)
class ProviderIdentity:
    """FOCUS identity columns of one provider."""

    provider_name: str
    publisher_name: str
    invoice_issuer_name: str
    billing_account_type: str
    sub_account_type: str


IDENTITIES: dict[CloudProvider, ProviderIdentity] = {
    CloudProvider.AWS: ProviderIdentity(
        "AWS",
        "Amazon Web Services, Inc.",
        "Amazon Web Services, Inc.",
        "Management Account",
        "Member Account",
    ),
    CloudProvider.AZURE: ProviderIdentity(
        "Microsoft", "Microsoft", "Microsoft", "Billing Profile", "Subscription"
    ),
    CloudProvider.GCP: ProviderIdentity(
        "Google Cloud", "Google Cloud", "Google Cloud", "Billing Account", "Project"
    ),
}

_K = ResourceKind
SERVICES: dict[CloudProvider, dict[ResourceKind, ServiceLabel]] = {
    CloudProvider.AWS: {
        _K.COMPUTE_INSTANCE: ServiceLabel(
            "Amazon Elastic Compute Cloud", "Compute", "Virtual Machines", "instance"
        ),
        _K.DISK: ServiceLabel("Amazon Elastic Compute Cloud", "Storage", "Block Storage", "volume"),
        _K.SNAPSHOT: ServiceLabel("Amazon Elastic Compute Cloud", "Storage", "Backup Storage", "snapshot"),
        _K.PUBLIC_IP: ServiceLabel(
            "Amazon Virtual Private Cloud", "Networking", "Network Infrastructure", "ipv4"
        ),
        _K.LOAD_BALANCER: ServiceLabel(
            "Elastic Load Balancing", "Networking", "Application Networking", "loadbalancer"
        ),
        _K.DATABASE: ServiceLabel(
            "Amazon Relational Database Service", "Databases", "Relational Databases", "db"
        ),
        _K.BUCKET: ServiceLabel("Amazon Simple Storage Service", "Storage", "Object Storage", "bucket"),
    },
    CloudProvider.AZURE: {
        _K.COMPUTE_INSTANCE: ServiceLabel(
            "Virtual Machines", "Compute", "Virtual Machines", "microsoft.compute/virtualmachines"
        ),
        _K.DISK: ServiceLabel("Virtual Machines", "Compute", "Virtual Machines", "microsoft.compute/disks"),
        _K.SNAPSHOT: ServiceLabel(
            "Virtual Machines", "Compute", "Virtual Machines", "microsoft.compute/snapshots"
        ),
        _K.PUBLIC_IP: ServiceLabel(
            "Virtual Network", "Networking", "Network Infrastructure", "microsoft.network/publicipaddresses"
        ),
        _K.LOAD_BALANCER: ServiceLabel(
            "Load Balancer", "Networking", "Application Networking", "microsoft.network/loadbalancers"
        ),
        _K.DATABASE: ServiceLabel(
            "Azure DB for PostgreSQL",
            "Databases",
            "Relational Databases",
            "microsoft.dbforpostgresql/flexibleservers",
        ),
        _K.BUCKET: ServiceLabel(
            "Storage Accounts", "Storage", "Storage Platforms", "microsoft.storage/storageaccounts"
        ),
    },
    CloudProvider.GCP: {
        _K.COMPUTE_INSTANCE: ServiceLabel(
            "Compute Engine", "Compute", "Virtual Machines", "compute.googleapis.com/Instance"
        ),
        _K.DISK: ServiceLabel("Compute Engine", "Storage", "Block Storage", "compute.googleapis.com/Disk"),
        _K.SNAPSHOT: ServiceLabel(
            "Compute Engine", "Storage", "Backup Storage", "compute.googleapis.com/Snapshot"
        ),
        _K.PUBLIC_IP: ServiceLabel(
            "Compute Engine", "Networking", "Network Infrastructure", "compute.googleapis.com/Address"
        ),
        _K.LOAD_BALANCER: ServiceLabel(
            "Compute Engine", "Networking", "Application Networking", "compute.googleapis.com/ForwardingRule"
        ),
        _K.DATABASE: ServiceLabel(
            "Cloud SQL", "Databases", "Relational Databases", "sqladmin.googleapis.com/Instance"
        ),
        _K.BUCKET: ServiceLabel(
            "Cloud Storage", "Storage", "Object Storage", "storage.googleapis.com/Bucket"
        ),
    },
}

REGION_NAMES: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "eastus": "East US",
    "westus2": "West US 2",
    "northeurope": "North Europe",
    "westeurope": "West Europe",
    "us-central1": "Iowa",
    "us-east1": "South Carolina",
    "europe-west1": "Belgium",
    "asia-southeast1": "Singapore",
}


def service(provider: CloudProvider, kind: ResourceKind) -> ServiceLabel:
    """The FOCUS service labels for a resource kind of ``provider``."""
    return SERVICES[provider][kind]


def sku_id(provider: CloudProvider, *parts: str) -> str:
    """A stable SkuId in the provider's style, derived from the priced dimensions (no randomness).

    AWS: 16 upper-case base-32 characters; Azure: a meter GUID; GCP: ``XXXX-XXXX-XXXX`` hex.
    """
    digest = hashlib.sha256("|".join((provider.value, *parts)).encode()).hexdigest().upper()
    if provider is CloudProvider.AWS:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "".join(alphabet[int(digest[i : i + 2], 16) % 32] for i in range(0, 32, 2))
    if provider is CloudProvider.AZURE:
        h = digest.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}"
