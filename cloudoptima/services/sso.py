"""Single sign-on with OpenID Connect: each organisation's identity provider, and signing people in through it.

Contract:
- ``SsoConfigService`` (one organisation, the caller commits): ``put`` creates or replaces the
  organisation's IdP. ``slug`` (the organisation's name on the login URL) is unique across the platform;
  the issuer is an https URL (http only on loopback); ``group_roles`` maps IdP group names to RBAC roles;
  ``default_role`` is the role of someone whose groups map to none, or None to refuse them. The client secret
  is stored encrypted with the credential key ring (rotated by ``cloudoptima secrets rotate``) and never
  returned; it is required on creation and kept when an update omits it. Bad input raises
  :class:`SsoConfigError` naming the field.
- ``SsoLoginService`` (unscoped session: no tenant is known before sign-in):
  ``begin(slug, redirect_uri)`` stores a pending sign-in (SHA-256 of a fresh ``state``, a ``nonce`` and a PKCE
  verifier, valid ``LOGIN_TTL``) and answers the IdP's authorization URL. ``begin(..., for_console=True)``
  marks the sign-in as started by the web console: its state starts with :data:`CONSOLE_STATE_PREFIX`, and
  since only the state's hash is stored, a state with that prefix has a pending sign-in only when the
  platform made it so (``started_for_console(state)``; ask before ``complete``, which consumes it).
  ``complete(state, code)`` consumes the pending sign-in (single use: the deletion is committed before
  anything else can fail), exchanges the code with the verifier, validates the ID token
  (``cloudoptima.services.oidc``) and answers the user it signs in as:
  * the role is the highest role any of the person's groups maps to, else ``default_role``, else the sign-in
    is refused (:class:`SsoAccessDenied`) and no user is created or changed;
  * the (issuer, subject) pair is linked to a user on first sign-in: an existing user of the organisation
    with the same email (a pending invitation is activated), else a new user; an email that belongs to
    another organisation, a deactivated user or an email the IdP says is unverified are refused;
  * the user's role follows the IdP's groups on every sign-in (the IdP is the source of truth).
  SSO users have no password (``password_hash`` is ``!sso:...``, never a valid hash).
  The caller issues the platform's tokens for the user and commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloudoptima.domain.rbac import ROLE_ORDER, Role, is_role
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services import oidc
from cloudoptima.services.auth import INVITED_HASH_PREFIX, normalise_email
from cloudoptima.storage.models import SsoIdentity, SsoLogin, SsoProvider, User

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CLAIM_PATTERN = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
LOGIN_TTL = timedelta(minutes=10)
SSO_HASH_PREFIX = "!sso:"
"""``users.password_hash`` of a user created by single sign-on (never a valid hash: no password sign-in)."""
DEFAULT_SCOPES = "openid email profile"
CONSOLE_STATE_PREFIX = "console."
"""Prefix of the ``state`` of a sign-in started by the web console (bound to the stored state hash)."""


class SsoConfigError(ValueError):
    """A single sign-on setting is invalid; the message names the field, ``field`` holds its name."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field or re.split(r"[\s\[:]", message, maxsplit=1)[0]


class SsoError(Exception):
    """A sign-in through the identity provider failed; the message is safe to show the person."""


class SsoUnavailableError(SsoError):
    """No enabled single sign-on for that organisation."""


class SsoStateError(SsoError):
    """The callback does not answer a pending sign-in (unknown, used or expired state)."""


class SsoProviderError(SsoError):
    """The identity provider failed or refused (unreachable, bad discovery document, code refused)."""


class SsoTokenError(SsoError):
    """The ID token failed validation (signature, issuer, audience, expiry, nonce)."""


class SsoAccessDenied(SsoError):
    """The person authenticated but may not sign in here (no role for their groups, deactivated, ...)."""


@dataclass(frozen=True)
class SsoConfigSpec:
    """What an admin configures (see module contract)."""

    slug: str
    issuer: str
    client_id: str
    client_secret: str | None = None
    scopes: str = DEFAULT_SCOPES
    groups_claim: str = "groups"
    group_roles: Mapping[str, str] = field(default_factory=dict)
    default_role: str | None = None
    enabled: bool = True


def validate_spec(spec: SsoConfigSpec) -> SsoConfigSpec:
    """``spec`` normalised, or :class:`SsoConfigError` naming the first bad field."""
    slug = spec.slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise SsoConfigError(
            "slug must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'"
        )
    try:
        issuer = oidc.check_issuer_url(spec.issuer)
    except ValueError as exc:
        raise SsoConfigError(str(exc), field="issuer") from exc
    if not spec.client_id.strip():
        raise SsoConfigError("client_id is required")
    scopes = " ".join(spec.scopes.split())
    if "openid" not in scopes.split():
        raise SsoConfigError("scopes must include 'openid'")
    if not CLAIM_PATTERN.match(spec.groups_claim):
        raise SsoConfigError("groups_claim must be a claim name (letters, digits, _ . : / -)")
    for group, role in spec.group_roles.items():
        if not group.strip():
            raise SsoConfigError("group_roles: group names cannot be empty")
        if not is_role(role):
            raise SsoConfigError(f"group_roles[{group!r}]: {role!r} is not one of {', '.join(ROLE_ORDER)}")
    if spec.default_role is not None and not is_role(spec.default_role):
        raise SsoConfigError(f"default_role must be one of {', '.join(ROLE_ORDER)} or null")
    if spec.client_secret is not None and not spec.client_secret:
        raise SsoConfigError("client_secret cannot be empty")
    return SsoConfigSpec(
        slug=slug,
        issuer=issuer,
        client_id=spec.client_id.strip(),
        client_secret=spec.client_secret,
        scopes=scopes,
        groups_claim=spec.groups_claim,
        group_roles=dict(spec.group_roles),
        default_role=spec.default_role,
        enabled=spec.enabled,
    )


class SsoConfigService:
    """The single sign-on configuration of one organisation (see module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID, cipher: CredentialCipher) -> None:
        self._session = session
        self._org = organization_id
        self._cipher = cipher

    def get(self) -> SsoProvider | None:
        return self._session.scalars(
            select(SsoProvider).where(SsoProvider.organization_id == self._org)
        ).first()

    def put(self, spec: SsoConfigSpec) -> SsoProvider:
        """Create or replace the organisation's identity provider."""
        clean = validate_spec(spec)
        row = self.get()
        if row is None:
            if clean.client_secret is None:
                raise SsoConfigError("client_secret is required when single sign-on is first configured")
            row = SsoProvider(organization_id=self._org)
            self._session.add(row)
        if clean.client_secret is not None:
            row.client_secret_encrypted = self._cipher.encrypt({"client_secret": clean.client_secret})
        row.slug = clean.slug
        row.issuer = clean.issuer
        row.client_id = clean.client_id
        row.scopes = clean.scopes
        row.groups_claim = clean.groups_claim
        row.group_roles = dict(clean.group_roles)
        row.default_role = clean.default_role
        row.enabled = clean.enabled
        try:
            with self._session.begin_nested():
                self._session.flush()
        except IntegrityError as exc:
            if "uq_sso_providers_slug" in str(exc.orig):
                raise SsoConfigError(f"slug {clean.slug!r} is already used by another organisation") from exc
            raise
        return row

    def delete(self) -> bool:
        """Remove the organisation's single sign-on (linked identities stay; they sign in again once it
        is configured again). False when there was none."""
        row = self.get()
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        return True


def resolve_role(groups: object, group_roles: Mapping[str, Any], default_role: str | None) -> Role | None:
    """The highest role any group maps to, else ``default_role`` (None: refuse)."""
    names = [groups] if isinstance(groups, str) else groups if isinstance(groups, list) else []
    granted = [group_roles[g] for g in names if isinstance(g, str) and g in group_roles]
    valid = [r for r in granted if is_role(r)]
    if valid:
        best: Role = max(valid, key=ROLE_ORDER.index)
        return best
    if default_role is not None and is_role(default_role):
        role: Role = default_role  # type: ignore[assignment]
        return role
    return None


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True)
class SsoSignIn:
    """Who signed in: the user (created or updated), whether it was created, and the ID token's subject."""

    user: User
    created: bool
    subject: str


class SsoLoginService:
    """Signing in through an organisation's identity provider (see module contract)."""

    def __init__(
        self,
        session: Session,
        cipher: CredentialCipher,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._cipher = cipher
        self._now = now

    def begin(self, slug: str, redirect_uri: str, *, for_console: bool = False) -> str:
        """Store a pending sign-in and answer the IdP's authorization URL (``for_console``: see contract)."""
        provider = self._session.scalars(
            select(SsoProvider).where(SsoProvider.slug == slug.strip().lower())
        ).first()
        if provider is None or not provider.enabled:
            raise SsoUnavailableError(f"single sign-on is not configured for {slug!r}")
        now = self._now()
        self._session.execute(delete(SsoLogin).where(SsoLogin.expires_at <= now))
        try:
            metadata = oidc.discover(provider.issuer)
        except oidc.OidcError as exc:
            raise SsoProviderError(str(exc)) from exc
        state, nonce, verifier = (
            (CONSOLE_STATE_PREFIX if for_console else "") + secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(48),
        )
        self._session.add(
            SsoLogin(
                state_hash=_state_hash(state),
                organization_id=provider.organization_id,
                provider_id=provider.id,
                nonce=nonce,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
                created_at=now,
                expires_at=now + LOGIN_TTL,
            )
        )
        self._session.flush()
        return oidc.authorization_url(
            metadata,
            client_id=provider.client_id,
            redirect_uri=redirect_uri,
            scope=provider.scopes,
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )

    def organisation_of(self, state: str) -> uuid.UUID | None:
        """The organisation a pending sign-in belongs to (for audit records), without consuming it."""
        return self._session.scalar(
            select(SsoLogin.organization_id).where(SsoLogin.state_hash == _state_hash(state))
        )

    def started_for_console(self, state: str) -> bool:
        """True when ``state`` names a pending sign-in that ``begin(..., for_console=True)`` stored."""
        return state.startswith(CONSOLE_STATE_PREFIX) and self.organisation_of(state) is not None

    def discard(self, state: str) -> None:
        """Consume a pending sign-in the IdP refused, so its state cannot be replayed (committed)."""
        self._session.execute(delete(SsoLogin).where(SsoLogin.state_hash == _state_hash(state)))
        self._session.commit()

    def complete(self, state: str, code: str) -> SsoSignIn:
        """Consume the pending sign-in and answer who it signs in as (see module contract)."""
        pending = self._session.scalars(
            select(SsoLogin).where(SsoLogin.state_hash == _state_hash(state)).with_for_update()
        ).first()
        if pending is None:
            raise SsoStateError("sign-in state is unknown or was already used; start the sign-in again")
        self._session.delete(pending)
        self._session.commit()  # single use, even when what follows fails
        now = self._now()
        if pending.expires_at <= now:
            raise SsoStateError("the sign-in took too long and expired; start it again")
        provider = self._session.get(SsoProvider, pending.provider_id)
        if provider is None or not provider.enabled:
            raise SsoUnavailableError("single sign-on is no longer configured for this organisation")
        secret = str(self._cipher.decrypt(provider.client_secret_encrypted)["client_secret"])
        try:
            metadata = oidc.discover(provider.issuer)
            tokens = oidc.exchange_code(
                metadata,
                client_id=provider.client_id,
                client_secret=secret,
                redirect_uri=pending.redirect_uri,
                code=code,
                code_verifier=pending.code_verifier,
            )
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str):
                raise SsoProviderError("the identity provider answered no ID token (is 'openid' in scopes?)")
            keys = oidc.fetch_jwks(metadata)
            claims = oidc.validate_id_token(
                id_token,
                keys=keys,
                issuer=provider.issuer,
                client_id=provider.client_id,
                nonce=pending.nonce,
                now=now,
            )
        except oidc.IdTokenError as exc:
            raise SsoTokenError(str(exc)) from exc
        except oidc.OidcError as exc:
            raise SsoProviderError(str(exc)) from exc
        return self._provision(provider, claims, now)

    def _provision(self, provider: SsoProvider, claims: dict[str, Any], now: datetime) -> SsoSignIn:
        subject = str(claims["sub"])
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SsoAccessDenied("the identity provider shared no email address (add the 'email' scope)")
        if claims.get("email_verified") is False:
            raise SsoAccessDenied("the identity provider says this email address is not verified")
        groups = claims.get(provider.groups_claim)
        role = resolve_role(groups, provider.group_roles, provider.default_role)
        if role is None:
            shown = ", ".join(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else groups
            raise SsoAccessDenied(
                f"none of your groups ({shown or 'none'}) grants a role in this organisation and no default "
                "role is configured; ask an administrator"
            )
        identity = self._session.scalars(
            select(SsoIdentity).where(SsoIdentity.issuer == provider.issuer, SsoIdentity.subject == subject)
        ).first()
        user: User | None
        if identity is not None:
            user = self._session.get(User, identity.user_id)
        else:
            user = self._session.scalars(
                select(User).where(func.lower(User.email) == normalise_email(email))
            ).first()
        if user is not None and user.organization_id != provider.organization_id:
            raise SsoAccessDenied("an account with this email belongs to another organisation")
        created = user is None
        if user is None:
            user = User(
                organization_id=provider.organization_id,
                email=normalise_email(email),
                password_hash=SSO_HASH_PREFIX + secrets.token_hex(16),
                full_name=_name(claims),
                role=role,
                is_active=True,
            )
            self._session.add(user)
            self._session.flush()
        else:
            invited = user.password_hash.startswith(INVITED_HASH_PREFIX)
            if not user.is_active and not invited:
                raise SsoAccessDenied("this account is deactivated")
            if invited:
                user.password_hash = SSO_HASH_PREFIX + secrets.token_hex(16)
                user.is_active = True
            user.role = role
            user.full_name = user.full_name or _name(claims)
        if identity is None:
            identity = SsoIdentity(
                organization_id=provider.organization_id,
                user_id=user.id,
                issuer=provider.issuer,
                subject=subject,
            )
            self._session.add(identity)
        identity.last_login_at = now
        user.last_login = now
        self._session.flush()
        return SsoSignIn(user=user, created=created, subject=subject)


def _name(claims: dict[str, Any]) -> str | None:
    name = claims.get("name")
    return name[:255] if isinstance(name, str) and name.strip() else None
