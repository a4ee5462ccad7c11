"""An organisation's settings (``organizations.settings``, JSON): one typed model every reader and the admin
API share, so a setting has one name, one type and one default.

Contract:
- ``OrganisationSettings.of(raw)`` reads the stored JSON: known keys are validated (a stored value of the wrong
  type falls back to the default rather than failing a read), unknown keys are kept untouched in ``extra``
  (e.g. ``personas``, written by registration), so a PATCH never loses what it does not know.
- ``apply_patch(raw, patch, allow_short_retention=)`` validates a PATCH body (unknown key → ``SettingsError``
  naming it and listing the known ones; wrong type → ``SettingsError`` naming the key, also in its ``key``) and
  returns the merged JSON to store and the keys whose value changed. ``None`` in a patch resets a key to its
  default.
- ``audit_retention_days`` (1..3650, default 365) has a safe floor, :data:`AUDIT_RETENTION_FLOOR_DAYS` (365):
  a patch below it is refused (``SettingsError`` naming ``audit_retention_days``) unless the platform allows
  short retention (``RETENTION_ALLOW_SHORT``, passed as ``allow_short_retention``), and
  ``audit_days_kept(allow_short=)`` — what the prune applies — never goes below the floor without that flag,
  whatever is stored (a value written before the floor existed, or while the flag was on).
- ``trust_tolerance_percent`` / ``trust_tolerance_amount`` / ``trust_restatement_days``: the organisation's
  cost-data trust policy (``domain.data_trust.TrustPolicy``; null keeps its default), used by the
  reconciliation, freshness and unreconciled-days answers and so the console's warning.
- ``rollup_tag_keys``: valid tag keys (``domain.tag_policy.tag_key_problem``), none twice; changing them through
  the admin API rebuilds the organisation's daily rollup in the same transaction
  (``services.rollup_rebuild``; ``cloudoptima db rebuild-rollup`` does it from the command line).
- Safety defaults: approval is required for every change a cloud sees (``require_approval`` true); the requester
  may not approve their own request; one approver suffices unless ``high_risk_approvers`` is 2; automatic
  approval is off and, when on, only ever covers low-risk reversible actions (the remediation workflow enforces
  that, whatever is stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cloudoptima.domain.tag_policy import tag_key_problem

AUDIT_RETENTION_FLOOR_DAYS: Final = 365
"""Audit entries are kept at least this long unless the platform sets ``RETENTION_ALLOW_SHORT``."""

DEFAULT_ROLLUP_TAG_KEYS: tuple[str, ...] = (
    "team",
    "env",
    "environment",
    "cost-center",
    "cost_center",
    "costcenter",
    "project",
    "owner",
    "application",
)
"""Tag keys kept in the daily rollup when the organisation names none (``storage.cost_loader`` uses them)."""


class SettingsError(ValueError):
    """A settings patch names an unknown key or gives a value of the wrong type; ``key`` is the setting at
    fault (None when the patch names unknown keys)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class OrganisationSettings(BaseModel):
    """The known settings with their defaults (see module contract)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_approval: bool = Field(
        default=True, description="Every remediation waits for a person's approval (the default and advice)."
    )
    allow_self_approval: bool = Field(
        default=False, description="The requester may approve their own request (separation of duties off)."
    )
    high_risk_approvers: int = Field(
        default=1, ge=1, le=2, description="Distinct approvers a high-risk remediation needs (1 or 2)."
    )
    auto_approve_low_risk: bool = Field(
        default=False,
        description="Low-risk, reversible actions run without waiting for a person; never high-risk or "
        "irreversible ones.",
    )
    rollup_tag_keys: tuple[str, ...] = Field(
        default=DEFAULT_ROLLUP_TAG_KEYS, max_length=20, description="Tag keys kept in the daily cost rollup."
    )
    audit_retention_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="Audit log entries older than this are deleted; at least 365 unless the platform allows "
        "short retention (RETENTION_ALLOW_SHORT).",
    )
    trust_tolerance_percent: Decimal | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Reconciliation tolerance, percent of the provider total (null: 0.01).",
    )
    trust_tolerance_amount: Decimal | None = Field(
        default=None,
        ge=0,
        le=Decimal("1e12"),
        description="Reconciliation tolerance in currency units; the larger tolerance wins (null: 0.01).",
    )
    trust_restatement_days: int | None = Field(
        default=None,
        ge=0,
        le=62,
        description="Days the provider may still restate: recent days and just-ended months (null: 3).",
    )

    @field_validator("rollup_tag_keys")
    @classmethod
    def _rollup_keys_ok(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Each a valid tag key (``domain.tag_policy``), none twice (keys are kept exactly as spelt)."""
        for index, key in enumerate(value):
            problem = tag_key_problem(key)
            if problem is not None:
                raise ValueError(f"[{index}] {problem}")
            if key in value[:index]:
                raise ValueError(f"[{index}] {key!r} is listed twice")
        return value

    def audit_days_kept(self, *, allow_short: bool) -> int:
        """The audit retention the prune applies: the setting, raised to :data:`AUDIT_RETENTION_FLOOR_DAYS`
        unless ``allow_short`` (the platform's ``RETENTION_ALLOW_SHORT``)."""
        if allow_short:
            return self.audit_retention_days
        return max(self.audit_retention_days, AUDIT_RETENTION_FLOOR_DAYS)

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> OrganisationSettings:
        """The settings stored in ``raw`` (see module contract: bad stored values read as defaults)."""
        known: dict[str, Any] = {}
        for name in cls.model_fields:
            if raw is None or name not in raw or raw[name] is None:
                continue
            try:
                cls.model_validate({name: raw[name]})
            except ValidationError:
                continue
            known[name] = raw[name]
        return cls.model_validate(known)


def known_keys() -> tuple[str, ...]:
    """The names of the known settings, in declaration order."""
    return tuple(OrganisationSettings.model_fields)


def apply_patch(
    raw: Mapping[str, Any] | None, patch: Mapping[str, Any], *, allow_short_retention: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """``(merged JSON to store, changed keys)`` of ``patch`` on ``raw`` (see module contract)."""
    unknown = sorted(set(patch) - set(known_keys()))
    if unknown:
        raise SettingsError(
            f"unknown organisation setting(s): {', '.join(unknown)}; known: {', '.join(known_keys())}"
        )
    before = OrganisationSettings.of(raw)
    merged = dict(raw or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
            continue
        try:
            checked = OrganisationSettings.model_validate({key: value})
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise SettingsError(f"setting {key!r}: {problem}", key=key) from None
        days = checked.audit_retention_days
        if key == "audit_retention_days" and days < AUDIT_RETENTION_FLOOR_DAYS and not allow_short_retention:
            raise SettingsError(
                f"setting 'audit_retention_days': {days} is below the safe minimum of "
                f"{AUDIT_RETENTION_FLOOR_DAYS} days (audit entries are kept at least a year); the platform "
                "operator can allow shorter retention with RETENTION_ALLOW_SHORT=true",
                key=key,
            )
        merged[key] = list(value) if isinstance(value, tuple) else value
    after = OrganisationSettings.of(merged)
    changed = [k for k in known_keys() if getattr(before, k) != getattr(after, k)]
    return merged, changed
