"""The report templates an organisation can generate, with their parameters, and one way to build any of them.

:data:`TEMPLATES` maps a template id to a :class:`ReportTemplate`: what ``GET /v1/reports/templates`` lists
(id, name, description, parameters), and ``build(connection, organization_id, parameters, generated_at)``,
which turns already validated parameters into a
:class:`~cloudoptima.reports.document.ReportDocument` through the same services the REST API answers with.

:func:`build_report` is the single entry point (REST, the report workflow, schedules and the CLI call it):

- an unknown template raises :class:`~cloudoptima.services.report_inputs.ReportInputError` naming the known ones;
- parameters are checked against the template's declared ones: an unknown name, a missing required one or a
  value of the wrong type raises ``ReportInputError`` whose message starts with ``parameters.<name>``;
- a *period* template takes ``start_date`` and ``end_date`` (ISO dates, end-exclusive); both absent means the
  last full calendar month before ``generated_at`` (what a monthly schedule wants); one without the other is
  an error. :func:`resolve_parameters` returns the parameters with the period filled in, so a report row can
  record exactly what it covered;
- a template's ``one_of`` groups name parameters of which exactly one must be given (``showback``: ``tag_key``
  or ``dimension``): none raises ``parameters.<first>: required by …``, several ``parameters.<second>: give
  exactly one of …``, both messages naming every parameter of the group.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.templates.monthly_cost_review import build_monthly_cost_review
from cloudoptima.services.report_inputs import (
    ReportInputError,
    last_full_month,
    monthly_cost_review_input,
    validate_period,
)
from cloudoptima.services.report_inputs_anomalies import build_anomalies_report
from cloudoptima.services.report_inputs_budgets import build_budgets_document
from cloudoptima.services.report_inputs_savings import build_savings_report
from cloudoptima.services.report_inputs_showback import build_showback_document

ParameterType = Literal["date", "string", "integer", "boolean"]


@dataclass(frozen=True)
class ReportParameter:
    """One parameter a template accepts (``GET /v1/reports/templates`` lists them)."""

    name: str
    type: ParameterType
    description: str
    required: bool = False
    default: str | int | bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "required": self.required,
            "default": self.default,
        }


Builder = Callable[[Connection, uuid.UUID, Mapping[str, Any], datetime], ReportDocument]
"""``build(connection, organization_id, resolved parameters, generated_at)``; parameters are already checked
and typed (dates are ``datetime.date``), period templates always get ``start_date`` and ``end_date``."""


PERIOD_PARAMETERS: tuple[ReportParameter, ...] = (
    ReportParameter(
        "start_date", "date", "First day of the period (YYYY-MM-DD); default: the last full month."
    ),
    ReportParameter("end_date", "date", "Day after the last (exclusive, YYYY-MM-DD); give both or neither."),
)
CURRENCY_PARAMETER = ReportParameter(
    "currency", "string", "ISO currency when costs are in several (default: the only one present)."
)


@dataclass(frozen=True)
class ReportTemplate:
    """A template: its id, what people read, its parameters and its builder."""

    id: str
    name: str
    description: str
    parameters: tuple[ReportParameter, ...]
    build: Builder
    period: bool = True
    one_of: tuple[tuple[str, ...], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "parameters": [p.as_dict() for p in self.parameters],
        }


def _build_monthly_cost_review(
    connection: Connection, organization_id: uuid.UUID, parameters: Mapping[str, Any], generated_at: datetime
) -> ReportDocument:
    data = monthly_cost_review_input(
        connection,
        organization_id,
        start=parameters["start_date"],
        end=parameters["end_date"],
        generated_at=generated_at,
        tag_key=parameters.get("tag_key"),
        currency=parameters.get("currency"),
        top_n=parameters.get("top_n", 10),
    )
    return build_monthly_cost_review(data)


def _registry(*templates: ReportTemplate) -> dict[str, ReportTemplate]:
    return {t.id: t for t in templates}


TEMPLATES: dict[str, ReportTemplate] = _registry(
    ReportTemplate(
        id="monthly_cost_review",
        name="Monthly cost review",
        description=(
            "Spend by account, service, region and a tag key against the previous period of the same length, "
            "the daily trend with the forecast and its interval, and the top N."
        ),
        parameters=(
            *PERIOD_PARAMETERS,
            ReportParameter("tag_key", "string", "Add a breakdown by this rollup tag key (e.g. team)."),
            CURRENCY_PARAMETER,
            ReportParameter("top_n", "integer", "How many lines the top-N charts show.", default=10),
        ),
        build=_build_monthly_cost_review,
    ),
    ReportTemplate(
        id="savings",
        name="Savings",
        description=(
            "Recommendations open now (by type, by risk, the top N), applied and dismissed in the period, with "
            "their estimated monthly savings, and per month and type the applied ones' estimates vs the "
            "savings measured from the bill."
        ),
        parameters=(
            *PERIOD_PARAMETERS,
            ReportParameter(
                "top_n", "integer", "How many recommendations and types the top N show.", default=10
            ),
        ),
        build=build_savings_report,
    ),
    ReportTemplate(
        id="anomalies",
        name="Cost anomalies",
        description=(
            "Cost anomalies that began in the period: expected against actual spend, impact, status and root "
            "cause (top cause and driver), by severity, with the impact by service."
        ),
        parameters=(
            *PERIOD_PARAMETERS,
            ReportParameter("top_n", "integer", "How many services the impact chart shows.", default=10),
        ),
        build=build_anomalies_report,
    ),
    ReportTemplate(
        id="budgets",
        name="Budgets",
        description=(
            "Every budget on its period within the report's: limit, spent, used %, forecasted end-of-period "
            "spend and status (ok, at risk, over), a burn-down per budget, and the alerts fired in the period."
        ),
        parameters=(
            *PERIOD_PARAMETERS,
            ReportParameter(
                "currency", "string", "ISO currency when budgets are in several (default: the only one)."
            ),
        ),
        build=build_budgets_document,
    ),
    ReportTemplate(
        id="showback",
        name="Showback",
        description=(
            "Cost by the values of one rollup tag key (team, product, environment) with the untagged remainder "
            "as its own line, against the previous period of the same length, and each value's top services."
        ),
        parameters=(
            *PERIOD_PARAMETERS,
            ReportParameter(
                "tag_key", "string", "The rollup tag key to show back by (e.g. team); or give dimension."
            ),
            ReportParameter(
                "dimension",
                "string",
                "The allocation dimension to show back by (e.g. team; unallocated is a line); or give tag_key.",
            ),
            CURRENCY_PARAMETER,
            ReportParameter("top_n", "integer", "Values and services per value to show.", default=10),
        ),
        build=build_showback_document,
        one_of=(("tag_key", "dimension"),),
    ),
)


def get_template(template_id: str) -> ReportTemplate:
    """The template ``template_id``; :class:`ReportInputError` naming the known ones otherwise."""
    found = TEMPLATES.get(template_id)
    if found is None:
        raise ReportInputError(
            f"template_id: unknown report template {template_id!r}; expected one of {', '.join(sorted(TEMPLATES))}"
        )
    return found


def _typed(parameter: ReportParameter, value: object) -> object:
    where = f"parameters.{parameter.name}"
    if parameter.type == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ReportInputError(f"{where}: expected a date as YYYY-MM-DD, got {value!r}")
    if parameter.type == "integer":
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        raise ReportInputError(f"{where}: expected a positive integer, got {value!r}")
    if parameter.type == "boolean":
        if isinstance(value, bool):
            return value
        raise ReportInputError(f"{where}: expected true or false, got {value!r}")
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ReportInputError(f"{where}: expected a non-empty string, got {value!r}")


def resolve_parameters(
    template: ReportTemplate, parameters: Mapping[str, Any], generated_at: datetime
) -> dict[str, Any]:
    """The template's parameters checked and typed, defaults applied and the period filled in (see module)."""
    if generated_at.tzinfo is None:
        raise ReportInputError("generated_at: must be timezone-aware (UTC)")
    declared = {p.name: p for p in template.parameters}
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportInputError(
            f"parameters.{unknown[0]}: {template.id} takes no parameter {unknown[0]!r}; "
            f"it takes {', '.join(declared) or 'none'}"
        )
    resolved: dict[str, Any] = {}
    for name, parameter in declared.items():
        value = parameters.get(name)
        if value is None:
            if parameter.required:
                raise ReportInputError(f"parameters.{name}: required by {template.id}")
            if parameter.default is not None:
                resolved[name] = parameter.default
            continue
        resolved[name] = _typed(parameter, value)
    for group in template.one_of:
        given = [name for name in group if name in resolved]
        choices = " and ".join(group)
        if not given:
            raise ReportInputError(
                f"parameters.{group[0]}: required by {template.id} (give exactly one of {choices})"
            )
        if len(given) > 1:
            raise ReportInputError(f"parameters.{given[1]}: give exactly one of {choices}, not both")
    if template.period:
        start, end = resolved.get("start_date"), resolved.get("end_date")
        if start is None and end is None:
            start, end = last_full_month(generated_at.astimezone(UTC).date())
        elif start is None or end is None:
            missing = "start_date" if start is None else "end_date"
            raise ReportInputError(f"parameters.{missing}: give both start_date and end_date, or neither")
        try:
            validate_period(start, end)
        except ReportInputError as exc:
            raise ReportInputError(f"parameters.{exc}") from exc
        resolved["start_date"], resolved["end_date"] = start, end
    return resolved


def build_report(
    connection: Connection,
    organization_id: uuid.UUID,
    template_id: str,
    parameters: Mapping[str, Any],
    generated_at: datetime,
) -> ReportDocument:
    """Build template ``template_id`` for ``organization_id`` (see the module contract for the errors)."""
    template = get_template(template_id)
    resolved = resolve_parameters(template, parameters, generated_at)
    return template.build(connection, organization_id, resolved, generated_at)


def parameters_as_json(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Resolved parameters as JSON values (dates as ISO strings), e.g. to record on a report row."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in parameters.items()}


__all__ = [
    "CURRENCY_PARAMETER",
    "PERIOD_PARAMETERS",
    "TEMPLATES",
    "ReportParameter",
    "ReportTemplate",
    "build_report",
    "get_template",
    "parameters_as_json",
    "resolve_parameters",
]
