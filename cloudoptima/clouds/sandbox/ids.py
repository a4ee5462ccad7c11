"""Provider-shaped identifiers for sandbox accounts and resources, drawn from a seeded ``random.Random``.

Identifiers look like the real ones (``i-0…``/``vol-…`` and ARNs on AWS, ARM ids on Azure, full resource
names on GCP) so that parsers written against them also work on real data.
"""

from __future__ import annotations

import random

from cloudoptima.domain.inventory import CloudProvider, ResourceKind

_AZURE_PATH = {
    ResourceKind.COMPUTE_INSTANCE: "Microsoft.Compute/virtualMachines",
    ResourceKind.DISK: "Microsoft.Compute/disks",
    ResourceKind.SNAPSHOT: "Microsoft.Compute/snapshots",
    ResourceKind.PUBLIC_IP: "Microsoft.Network/publicIPAddresses",
    ResourceKind.LOAD_BALANCER: "Microsoft.Network/loadBalancers",
    ResourceKind.DATABASE: "Microsoft.DBforPostgreSQL/flexibleServers",
    ResourceKind.BUCKET: "Microsoft.Storage/storageAccounts",
}


def hex_id(rng: random.Random, length: int) -> str:
    """``length`` lower-case hex digits."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def guid(rng: random.Random) -> str:
    """A GUID-shaped string."""
    h = hex_id(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def account_id(provider: CloudProvider, rng: random.Random, slug: str) -> str:
    """AWS: 12 digits; Azure: subscription GUID; GCP: a project id."""
    if provider is CloudProvider.AWS:
        return str(rng.randrange(10**11, 10**12))
    if provider is CloudProvider.AZURE:
        return guid(rng)
    return f"{slug}-{rng.randrange(100000, 999999)}"


def billing_account_id(provider: CloudProvider, rng: random.Random) -> str:
    """AWS payer account, Azure billing profile, GCP billing account."""
    if provider is CloudProvider.AWS:
        return str(rng.randrange(10**11, 10**12))
    if provider is CloudProvider.AZURE:
        h = hex_id(rng, 15).upper()
        return f"{h[:4]}-{h[4:8]}-{h[8:11]}-{h[11:]}"
    h = hex_id(rng, 18).upper()
    return f"{h[:6]}-{h[6:12]}-{h[12:]}"


def resource_id(
    provider: CloudProvider,
    kind: ResourceKind,
    *,
    account: str,
    region: str,
    name: str,
    group: str,
    rng: random.Random,
) -> str:
    """A resource id unique within the provider (``name`` must be unique within the account)."""
    if provider is CloudProvider.AWS:
        return _aws(kind, account, region, name, rng)
    if provider is CloudProvider.AZURE:
        return f"/subscriptions/{account}/resourceGroups/{group}/providers/{_AZURE_PATH[kind]}/{name}"
    return _gcp(kind, account, region, name)


def _aws(kind: ResourceKind, account: str, region: str, name: str, rng: random.Random) -> str:
    if kind is ResourceKind.COMPUTE_INSTANCE:
        return f"i-0{hex_id(rng, 16)}"
    if kind is ResourceKind.DISK:
        return f"vol-0{hex_id(rng, 16)}"
    if kind is ResourceKind.SNAPSHOT:
        return f"snap-0{hex_id(rng, 16)}"
    if kind is ResourceKind.PUBLIC_IP:
        return f"eipalloc-0{hex_id(rng, 16)}"
    if kind is ResourceKind.LOAD_BALANCER:
        return f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{hex_id(rng, 16)}"
    if kind is ResourceKind.DATABASE:
        return f"arn:aws:rds:{region}:{account}:db:{name}"
    return f"arn:aws:s3:::{name}-{account}"


def _gcp(kind: ResourceKind, project: str, region: str, name: str) -> str:
    base = f"//compute.googleapis.com/projects/{project}"
    if kind is ResourceKind.COMPUTE_INSTANCE:
        return f"{base}/zones/{region}-a/instances/{name}"
    if kind is ResourceKind.DISK:
        return f"{base}/zones/{region}-a/disks/{name}"
    if kind is ResourceKind.SNAPSHOT:
        return f"{base}/global/snapshots/{name}"
    if kind is ResourceKind.PUBLIC_IP:
        return f"{base}/regions/{region}/addresses/{name}"
    if kind is ResourceKind.LOAD_BALANCER:
        return f"{base}/regions/{region}/forwardingRules/{name}"
    if kind is ResourceKind.DATABASE:
        return f"//cloudsql.googleapis.com/projects/{project}/instances/{name}"
    return f"//storage.googleapis.com/{name}-{project}"


def public_ipv4(rng: random.Random) -> str:
    """An address from the documentation ranges (RFC 5737), never a real host."""
    prefix = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{prefix}.{rng.randrange(1, 255)}"
