"""Automation policies (seed §3.2 Policies API): a trigger (schedule / event / threshold), conditions over
stored resources, and actions that are provider action kinds (as plain strings: the domain never imports
``clouds``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cloudoptima.domain.recommendations import PROVIDER_ACTION_KINDS, RiskLevel
from cloudoptima.domain.remediation.approval import ACTION_RISK, SafetyControls, highest_risk
from cloudoptima.domain.remediation.base import FrozenModel

ConditionOperator = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "older_than_days"
]


class PolicyTrigger(FrozenModel):
    """``schedule``: config ``{"cron": "0 2 * * *"}`` or ``{"interval_seconds": n}``; ``event``: config
    ``{"event": "anomaly.detected", "filters": {...}}``; ``threshold``: config
    ``{"metric": name, "operator": "gt"|"gte"|"lt"|"lte", "value": number}``."""

    type: Literal["schedule", "event", "threshold"]
    config: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _config_fits(self) -> PolicyTrigger:
        config = self.config
        if self.type == "schedule":
            cron, interval = config.get("cron"), config.get("interval_seconds")
            if (cron is None) == (interval is None):
                raise ValueError(
                    "a schedule trigger needs exactly one of config.cron or config.interval_seconds"
                )
            if cron is not None and (not isinstance(cron, str) or len(cron.split()) != 5):
                raise ValueError("config.cron must be a five-field cron expression")
            if interval is not None and (not isinstance(interval, int) or interval < 60):
                raise ValueError("config.interval_seconds must be an integer of at least 60")
        elif self.type == "event":
            if not isinstance(config.get("event"), str) or not config["event"]:
                raise ValueError("an event trigger needs config.event (e.g. 'anomaly.detected')")
            if not isinstance(config.get("filters", {}), dict):
                raise ValueError("config.filters must be an object")
        else:
            if not isinstance(config.get("metric"), str) or not config["metric"]:
                raise ValueError("a threshold trigger needs config.metric")
            if config.get("operator", "gte") not in ("gt", "gte", "lt", "lte"):
                raise ValueError("config.operator must be one of gt, gte, lt, lte")
            value = config.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError("config.value must be a number")
            try:
                Decimal(str(value))
            except ArithmeticError:
                raise ValueError("config.value must be a number") from None
        return self


class PolicyCondition(FrozenModel):
    """``field`` is a column (``provider``, ``resource_type``, ``region``, ``status``, ``cost_monthly``,
    ``created_at``, ``last_seen``, ``resource_id``, ``resource_name``) or a path into ``tags.``,
    ``configuration.`` or ``metrics.`` (e.g. ``metrics.cpu_percent.avg``)."""

    field: str = Field(min_length=1)
    operator: ConditionOperator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> PolicyCondition:
        if self.operator in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"{self.operator} needs a list value")
        if self.operator == "exists" and not isinstance(self.value, bool):
            raise ValueError("exists needs a boolean value")
        if self.operator == "older_than_days" and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float) or self.value < 0
        ):
            raise ValueError("older_than_days needs a non-negative number of days")
        if self.operator in ("gt", "gte", "lt", "lte") and (
            self.value is None or isinstance(self.value, bool | list | dict)
        ):
            raise ValueError(f"{self.operator} needs a number, date or string value")
        return self


POLICY_ACTION_KINDS: dict[str, str] = {"tag_resources": "tag"}
"""Policy-only action types and the provider action kind each becomes: ``tag_resources`` applies to each matched
resource the organisation's required tags it lacks (``services.policies`` plans one ``tag`` step per resource
that lacks any; config ``tags`` overrides the policy's default values, ``keys`` limits the keys)."""


class PolicyAction(FrozenModel):
    """Seed ``actions[]``: ``type`` is a provider action kind or a :data:`POLICY_ACTION_KINDS` type; ``config``
    its parameters."""

    type: str
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PROVIDER_ACTION_KINDS and value not in POLICY_ACTION_KINDS:
            known = (*PROVIDER_ACTION_KINDS, *POLICY_ACTION_KINDS)
            raise ValueError(f"action type must be one of {', '.join(known)}, got {value!r}")
        return value

    @property
    def provider_kind(self) -> str:
        """The provider action kind this action runs as."""
        return POLICY_ACTION_KINDS.get(self.type, self.type)


class PolicyDefinition(FrozenModel):
    """A policy as created through ``POST /policies`` (validated)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    enabled: bool = True
    trigger: PolicyTrigger
    conditions: list[PolicyCondition] = Field(default_factory=list)
    actions: list[PolicyAction] = Field(min_length=1)
    safety_controls: SafetyControls = Field(default_factory=SafetyControls)
    risk_level: RiskLevel | None = None
    """Optional floor of the plan risk (the actions' own risk is always applied)."""

    @property
    def risk(self) -> RiskLevel:
        """The highest of the declared floor and every action's risk."""
        floor = [self.risk_level] if self.risk_level is not None else []
        return highest_risk(*floor, *(ACTION_RISK[a.provider_kind] for a in self.actions))
