"""``cloudoptima commitments``: commitments seen in the billing data, utilisation and coverage (#22).

Reads the same services as ``GET /v1/commitments`` (:mod:`cloudoptima.services.commitments`, and the owned
commitments of :mod:`cloudoptima.services.owned_commitments`, listed when there are any) straight from the
database (no API or worker). ``--start``/``--end`` (``YYYY-MM-DD``, end exclusive, at most 366 days; default:
the 30 days before today, UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.table import Table

from cloudoptima.domain.commitments import CommitmentList, CoverageReport
from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

MAX_DAYS = 366


class CommitmentsAnswer(BaseModel):
    """What ``--json`` prints."""

    commitments: CommitmentList
    coverage: CoverageReport


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be YYYY-MM-DD, got {value!r}")


def period(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The ``[start, end)`` asked (module docstring); a failure naming the option otherwise."""
    last = _day("--end", end) if end is not None else today
    first = _day("--start", start) if start is not None else last - timedelta(days=30)
    if last <= first:
        fail("--end must be after --start (--end is exclusive)")
    if (last - first).days > MAX_DAYS:
        fail(f"--end: the period cannot exceed {MAX_DAYS} days")
    return first, last


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value}%"


def commitments(
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    start: Annotated[str | None, typer.Option("--start", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Day after the last (exclusive).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Reservations, savings plans and committed-use discounts seen in the billing data: per commitment its
    type, days seen, committed cost and utilisation; coverage per currency over the period."""
    from sqlalchemy.orm import Session

    from cloudoptima.services.commitments import coverage, list_commitments
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.owned_commitments import with_owned
    from cloudoptima.storage.engine import engine_from_settings

    settings = settings_or_fail(state_dir)
    now = datetime.now(UTC)
    first, last = period(start, end, now.date())
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    with Session(engine) as session:
        answer = CommitmentsAnswer(
            commitments=with_owned(session, org_id, list_commitments(session, org_id, first, last), now),
            coverage=coverage(session, org_id, first, last),
        )
    engine.dispose()
    if as_json:
        console.print_json(answer.model_dump_json())
        return
    table = Table(title=f"Commitments {first} .. {last} (end exclusive)")
    for column in ("commitment", "type", "currency", "committed", "utilisation"):
        table.add_column(column)
    for item in answer.commitments.commitments:
        table.add_row(
            item.commitment_id,
            item.type or "-",
            item.currency,
            str(item.committed_cost.quantize(Decimal("0.01"))),
            _pct(item.utilisation_percent),
        )
    console.print(table)
    if answer.commitments.owned:
        owned = Table(title="Owned (provider APIs)")
        for column in ("commitment", "kind", "account", "covers", "end", "days left", "state"):
            owned.add_column(column)
        for o in answer.commitments.owned:
            covers = (
                f"{o.instance_count} x {o.instance_type}"
                if o.instance_type
                else f"{o.hourly_commitment}/h"
                if o.hourly_commitment is not None
                else f"{o.vcpus or 0} vCPU, {o.memory_mb or 0} MB {o.instance_family or ''}".rstrip()
            )
            owned.add_row(
                o.commitment_id,
                o.kind.value,
                o.account_id,
                covers,
                o.end.date().isoformat(),
                str(o.days_to_expiry),
                o.state,
            )
        console.print(owned)
    for read in answer.commitments.inventory_reads:
        if read.status != "read":
            console.print(f"{read.provider} {read.account_id}: inventory {read.status}", highlight=False)
    for gap in answer.commitments.not_derivable:
        console.print(f"{gap.provider} {gap.currency}: utilisation {gap.reason}", highlight=False)
    for total in answer.coverage.totals:
        console.print(
            f"coverage {total.currency}: {_pct(total.coverage_percent)} "
            f"({total.covered_cost.quantize(Decimal('0.01'))} of {total.eligible_cost.quantize(Decimal('0.01'))}"
            " list cost)",
            highlight=False,
        )
