"""IAM principals of a sandbox account: people, CI service accounts and roles, with keys and grants.

Each account gets: 2–4 users (one has a key unused for 120–300 days, one key was never used), 2 service
accounts (one key older than a year), and 2 roles without credentials. Exactly one user holds a privileged
grant (AdministratorAccess / Owner / roles/owner) and has not been active for 90+ days. Key identifiers
look like the provider's (AKIA… access key ids, GUID secret ids, 40-hex key ids); no secret material exists.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta

from cloudoptima.clouds.sandbox import ids
from cloudoptima.domain.inventory import (
    CloudAccount,
    CloudProvider,
    Credential,
    CredentialKind,
    Grant,
    Principal,
    PrincipalKind,
)

_PEOPLE = ("alice.nguyen", "bob.okafor", "carla.rossi", "dev.patel", "eve.martin", "farid.haddad")
_ROLES: dict[CloudProvider, tuple[str, str, str]] = {
    CloudProvider.AWS: (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ),
    CloudProvider.AZURE: ("Owner", "Contributor", "Reader"),
    CloudProvider.GCP: ("roles/owner", "roles/editor", "roles/viewer"),
}
_KEY_KIND = {
    CloudProvider.AWS: CredentialKind.ACCESS_KEY,
    CloudProvider.AZURE: CredentialKind.CLIENT_SECRET,
    CloudProvider.GCP: CredentialKind.SERVICE_ACCOUNT_KEY,
}


def _key_id(provider: CloudProvider, rng: random.Random) -> str:
    if provider is CloudProvider.AWS:
        return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    if provider is CloudProvider.AZURE:
        return ids.guid(rng)
    return ids.hex_id(rng, 40)


def _principal_id(account: CloudAccount, kind: PrincipalKind, name: str) -> str:
    if account.provider is CloudProvider.AWS:
        path = "user" if kind is not PrincipalKind.ROLE else "role"
        return f"arn:aws:iam::{account.account_id}:{path}/{name}"
    if account.provider is CloudProvider.AZURE:
        return f"/subscriptions/{account.account_id}/principals/{name}"
    if kind is PrincipalKind.SERVICE_ACCOUNT:
        return f"{name}@{account.account_id}.iam.gserviceaccount.com"
    return (
        f"{name}@example.com" if kind is PrincipalKind.USER else f"projects/{account.account_id}/roles/{name}"
    )


def build_principals(account: CloudAccount, rng: random.Random, now: datetime) -> list[Principal]:
    """The principals of ``account`` as of ``now`` (the window end)."""
    provider = account.provider
    admin, power, reader = _ROLES[provider]
    scope = f"account:{account.account_id}"
    principals: list[Principal] = []

    def days_ago(low: int, high: int) -> datetime:
        return now - timedelta(hours=rng.randint(low * 24, high * 24))

    def key(created: datetime, last_used: datetime | None, *, active: bool = True) -> Credential:
        return Credential(
            credential_id=_key_id(provider, rng),
            kind=_KEY_KIND[provider],
            active=active,
            created_at=created,
            last_used_at=last_used,
        )

    people = rng.sample(_PEOPLE, rng.randint(2, 4))
    for index, person in enumerate(people):
        created = days_ago(200, 900)
        stale = index == 1
        privileged_idle = index == 0
        credentials = [key(days_ago(30, 180), days_ago(0, 3))]
        if stale:
            credentials.append(key(days_ago(300, 600), days_ago(120, 300)))
        if index == len(people) - 1:
            credentials.append(key(days_ago(10, 60), None))
        activity = days_ago(95, 200) if privileged_idle else days_ago(0, 5)
        if privileged_idle:
            credentials = [key(days_ago(200, 400), activity)]
        principals.append(
            Principal(
                principal_id=_principal_id(account, PrincipalKind.USER, person),
                provider=provider,
                account_id=account.account_id,
                name=person,
                kind=PrincipalKind.USER,
                created_at=created,
                last_activity_at=activity,
                grants=(
                    Grant(
                        role=admin if privileged_idle else rng.choice((power, reader)),
                        scope=scope,
                        privileged=privileged_idle,
                    ),
                ),
                credentials=tuple(credentials),
            )
        )
    for index, name in enumerate(("ci-deployer", "metrics-exporter")):
        created = days_ago(400, 800)
        first_key = key(days_ago(380, 700) if index == 0 else days_ago(20, 80), days_ago(0, 1))
        principals.append(
            Principal(
                principal_id=_principal_id(account, PrincipalKind.SERVICE_ACCOUNT, name),
                provider=provider,
                account_id=account.account_id,
                name=name,
                kind=PrincipalKind.SERVICE_ACCOUNT,
                created_at=created,
                last_activity_at=first_key.last_used_at,
                grants=(Grant(role=power if index == 0 else reader, scope=scope, privileged=False),),
                credentials=(first_key,),
            )
        )
    for name in ("finops-readonly", "break-glass"):
        principals.append(
            Principal(
                principal_id=_principal_id(account, PrincipalKind.ROLE, name),
                provider=provider,
                account_id=account.account_id,
                name=name,
                kind=PrincipalKind.ROLE,
                created_at=days_ago(300, 900),
                last_activity_at=days_ago(0, 30),
                grants=(
                    Grant(
                        role=reader if name == "finops-readonly" else admin,
                        scope=scope,
                        privileged=name == "break-glass",
                    ),
                ),
            )
        )
    return principals
