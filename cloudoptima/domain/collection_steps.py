"""What one account's collection steps return, and the progress of a whole-account run: one pydantic model each,
shared by the collection service (``cloudoptima.services.collection``, which builds them) and the collection
workflows (``cloudoptima_workflows.collection``, which send them between activities and workflows).

Pure: dates, ``Decimal`` money, UTC-aware datetimes and the kernel's :class:`PermissionProblem`. The step
results are immutable; :class:`AccountCollection` is the run's progress, built step by step by the service.

The JSON form is the wire format Temporal records (its pydantic data converter), so it keeps the shape the
recorded histories hold: a cost window is ``{"start", "end"}``; a run's costs are ``cost_windows`` and its
failures are written as ``failed_steps`` (labels of the final ones) and ``pending`` (the retryable ones), from
which they are read back. Unknown fields are ignored on reading; a new field needs a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    computed_field,
    model_validator,
)

from cloudoptima.domain.permission_problems import PermissionProblem, distinct

__all__ = [
    "AccountCollection",
    "CollectionPlan",
    "CostStep",
    "CostWindow",
    "FinishStep",
    "ForecastStep",
    "IamStep",
    "InventoryStep",
    "StepFailure",
    "StepName",
    "UtilisationStep",
]

StepName = Literal["costs", "inventory", "utilisation", "iam", "forecast"]


class CostWindow(NamedTuple):
    """A ``[start, end)`` day window of cost data (a tuple: ``start, end = window``)."""

    start: date
    end: date


def _window_from_mapping(value: object) -> object:
    if isinstance(value, Mapping):
        return (value["start"], value["end"])
    return value


def _window_as_mapping(window: CostWindow) -> dict[str, date]:
    return {"start": window.start, "end": window.end}


Window = Annotated[
    CostWindow,
    BeforeValidator(_window_from_mapping),
    PlainSerializer(_window_as_mapping, return_type=dict[str, date]),
]
"""A :class:`CostWindow` that is ``{"start": …, "end": …}`` on the wire (and read from that or a pair)."""


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True)


class CollectionPlan(_Step):
    """The cost days one collection fetches (``[start, end)``, split into ``windows``) and the utilisation
    window it reads (``[utilisation_start, utilisation_end)``)."""

    start: date
    end: date
    windows: list[Window]
    first_sync: bool
    utilisation_start: date
    utilisation_end: date


class CostStep(_Step):
    """One cost window loaded: ``rows`` written, ``replaced`` removed, their ``billed_total``."""

    start: date
    end: date
    rows: int
    replaced: int
    billed_total: Decimal
    kept_days: int = 0
    """Days whose resource-level rows were kept because the fetched rows were coarser."""


class InventoryStep(_Step):
    resources: int
    complete: bool
    failures: list[str] = Field(default_factory=list)
    permission_problems: list[PermissionProblem] = Field(default_factory=list)
    """The denied parts of the read (also in ``failures``)."""


class UtilisationStep(_Step):
    resources: int
    """Resources whose summaries were refreshed from the history."""
    series: int
    failures: list[str] = Field(default_factory=list)
    samples: int = 0
    """Hourly samples written to the history."""
    permission_problems: list[PermissionProblem] = Field(default_factory=list)
    """Resources whose read was denied."""


class IamStep(_Step):
    principals: int
    privileged: int
    complete: bool
    permission_problems: list[PermissionProblem] = Field(default_factory=list)
    """The denied parts of the read."""


class ForecastStep(_Step):
    """The cloud's own forecast of the account's next days, as stored (``source`` None: the cloud offers none,
    and any stored one was removed)."""

    source: str | None
    total: Decimal | None
    currency: str | None
    days: int


class FinishStep(_Step):
    last_sync_at: AwareDatetime | None
    monthly_spend: Decimal | None
    events: int


class StepFailure(_Step):
    """A step of a whole-account collection that failed with a provider error.

    ``retryable`` failures are left for the caller to retry as single steps (``window`` names the cost
    window; for ``utilisation`` after a retryable inventory failure, the reason says so)."""

    step: StepName
    reason: str
    retryable: bool
    window: Window | None = None

    def label(self) -> str:
        """``"<step>[ <start>..<end>]: <reason>"``, read back by :meth:`from_label`."""
        if self.window is not None:
            return (
                f"{self.step} {self.window.start.isoformat()}..{self.window.end.isoformat()}: {self.reason}"
            )
        return f"{self.step}: {self.reason}"

    @classmethod
    def from_label(cls, label: str, *, retryable: bool = False) -> StepFailure:
        """The failure :meth:`label` wrote (step names and ISO dates hold no ``": "``)."""
        head, _, reason = label.partition(": ")
        step, _, span = head.partition(" ")
        start, _, end = span.partition("..")
        return cls.model_validate(
            {"step": step, "reason": reason, "retryable": retryable, "window": (start, end) if span else None}
        )


class AccountCollection(BaseModel):
    """Progress and outcome of one whole-account collection, built step by step by the service; also what a
    retry resumes from (steps already present are not collected again) and what the workflow reads.

    ``costs`` is ``cost_windows`` on the wire; ``failures`` are written as ``failed_steps`` and ``pending``
    and read back from them; ``forecast`` is not sent (best effort: a resumed run fetches it again)."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    plan: CollectionPlan
    costs: list[CostStep] = Field(
        default_factory=list,
        validation_alias=AliasChoices("costs", "cost_windows"),
        serialization_alias="cost_windows",
    )
    inventory: InventoryStep | None = None
    utilisation: UtilisationStep | None = None
    iam: IamStep | None = None
    forecast: ForecastStep | None = Field(default=None, exclude=True)
    """Best effort: a failure is recorded (never retried) and the next collection fetches it again."""
    failures: list[StepFailure] = Field(default_factory=list, exclude=True)
    finish: FinishStep | None = None
    """Set when the sync was recorded (no retryable failure was left)."""
    denied: list[PermissionProblem] = Field(default_factory=list)
    """Steps (or cost windows) that raised a permission denial; carried by a resume."""

    def resumed(self) -> AccountCollection:
        """What a retried attempt resumes from: the steps already collected, the plan and the denials; not the
        failures (those steps run again) nor the best-effort forecast (fetched again)."""
        return AccountCollection(
            plan=self.plan,
            costs=list(self.costs),
            inventory=self.inventory,
            utilisation=self.utilisation,
            iam=self.iam,
            finish=self.finish,
            denied=list(self.denied),
        )

    @model_validator(mode="before")
    @classmethod
    def _failures_from_wire(cls, data: Any) -> Any:
        """The wire's ``failed_steps`` (final, by label) then ``pending`` (retryable) become ``failures``."""
        if isinstance(data, Mapping) and ("failed_steps" in data or "pending" in data):
            data = dict(data)
            final = [StepFailure.from_label(label) for label in data.pop("failed_steps", [])]
            pending = [
                {**p, "retryable": True} if isinstance(p, Mapping) else p for p in data.pop("pending", [])
            ]
            data.setdefault("failures", [*final, *pending])
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failed_steps(self) -> list[str]:
        """Labels of the final (non-retryable) failures."""
        return [f.label() for f in self.failures if not f.retryable]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pending(self) -> list[StepFailure]:
        """The retryable failures, left for the caller to retry singly."""
        return [f for f in self.failures if f.retryable]

    @property
    def permission_problems(self) -> list[PermissionProblem]:
        """Every permission problem met so far: denied steps plus the denied parts of the reads."""
        parts = [
            step.permission_problems
            for step in (self.inventory, self.utilisation, self.iam)
            if step is not None
        ]
        return distinct([*self.denied, *(p for problems in parts for p in problems)])

    @property
    def costs_complete(self) -> bool:
        loaded = {(c.start, c.end) for c in self.costs}
        return all(window in loaded for window in self.plan.windows)
