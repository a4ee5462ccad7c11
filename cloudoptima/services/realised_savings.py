"""Realised savings (#22): a completed recommendation's resources measured in the bill before and after its change.

Contract:

- The change time ``T`` is the recommendation's ``applied_at`` (set by
  :mod:`cloudoptima.services.execution_progress` when an execution's change was verified); its UTC day is the
  change day ``d``. Only ``completed`` recommendations are measured (applied through the product).
- Cost of a day = Σ ``effective_cost`` (``billed_cost`` where a row has none) of the ``cost_data`` rows of the
  recommendation's resources (``resource_ids``, else the ids of ``affected_resources``; compared
  case-insensitively) whose ``charge_period_start`` falls on that UTC day, read per price key with its
  quantity (:mod:`cloudoptima.services.savings_costs`).
- Windows of ``N`` days (default 7), end exclusive: before ``[d − N, d)``, after ``[d + 1, d + 1 + N)``; the
  change day is skipped. A change applied by hand whose time is only known to lie in
  ``(changed_after, applied_at]`` (:mod:`cloudoptima.services.applied_by_hand`) has its before window end at
  the day of ``changed_after`` instead, ``[e − N, e)``: no day the change may have happened is measured as
  before or after. Changes the product made, and stops with the cloud's own time, are exact. Before daily = Σ before / days billed in it; after daily = Σ after / ``N`` (a day
  without a row cost nothing: a deleted resource bills nothing). Both rounded to 6 places, half-even.
- Netted (:mod:`cloudoptima.services.savings_measurement`, :mod:`cloudoptima.services.savings_netting`):
  per-month prices count at their monthly price whatever the month's length; the after window is priced at
  the before window's unit price of each price key (a key new after the change: at its first after day's
  price), the difference reported as ``price_effect_monthly`` and not counted; replacement resources linked
  to the change (kept snapshots, successors: :func:`~cloudoptima.services.savings_costs.link_replacements`)
  count in the after window (``replacement_ids``, ``replacement_monthly``).
- Realised monthly = (before daily − after daily) × 30.4375 (365.25 / 12), rounded to cents half-even; error %
  = (realised monthly − estimate) / estimate × 100, 2 places (negative: the estimate was too high).
- Status: ``unmeasurable`` without resource ids, without any cost in the before window, or with more than one
  billing currency; ``measuring`` until ``as_of`` has passed the after window's end *and* the bill of every
  billing account the resources billed under reaches the after window's last day; ``measured`` otherwise.
- Confidence (:class:`~cloudoptima.domain.savings.Confidence`): ``high`` when every before day billed and the
  before days' coefficient of variation ≤ 0.10, ``medium`` when every day billed and CV ≤ 0.30, ``low`` else.
- Ledger (:func:`savings_ledger`) and per-rule accuracy (:func:`rule_accuracy`): see the domain models. A rule
  is flagged when the mean signed error of ≥ 3 measured items exceeds 25 % in magnitude.
- Changes made by hand are measured once
  :mod:`cloudoptima.services.applied_by_hand` has marked them ``completed`` at their change time.
- Every query is scoped to the organisation; ``as_of`` comes from the caller.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.domain.savings import (
    LedgerBucket,
    LedgerRow,
    Measurement,
    MeasurementStatus,
    MonthSavings,
    RuleAccuracy,
    RuleAccuracyReport,
    SavingsLedger,
)
from cloudoptima.services.savings_costs import link_replacements, load_costs
from cloudoptima.services.savings_measurement import WINDOW_DAYS as WINDOW_DAYS
from cloudoptima.services.savings_measurement import measure_lines
from cloudoptima.services.savings_netting import lines_from_daily
from cloudoptima.storage.models import Recommendation, User

MAX_WINDOW_DAYS = 90
FLAG_ERROR_PERCENT = Decimal("25")
FLAG_MIN_MEASURED = 3
_PERCENT = Decimal("0.01")
_DAY = timedelta(days=1)


class SavingsInputError(ValueError):
    """Bad input; the message starts with the field's name."""


def measure(
    daily: Mapping[date, Decimal],
    *,
    change_day: date,
    as_of: datetime,
    billed_through: date | None,
    estimated_monthly: Decimal | None,
    currency: str | None,
    window_days: int = WINDOW_DAYS,
    replacement_daily: Mapping[date, Decimal] | None = None,
) -> Measurement:
    """The measurement of one change from its resources' daily cost without price keys (nothing is repriced or
    month-normalised; see :func:`~cloudoptima.services.savings_measurement.measure_lines`, which the ledger
    uses). ``billed_through`` is the last UTC day the resources' billing accounts have cost rows for (None:
    unknown); ``replacement_daily`` is the daily cost of linked replacement resources (after window only)."""
    return measure_lines(
        lines_from_daily(dict(daily)),
        change_day=change_day,
        as_of=as_of,
        billed_through=billed_through,
        estimated_monthly=estimated_monthly,
        currency=currency,
        window_days=window_days,
        replacement=lines_from_daily(dict(replacement_daily or {})),
    )


def resource_ids_of(row: Recommendation) -> list[str]:
    """The recommendation's resource ids (``resource_ids``, else those of ``affected_resources``)."""
    ids = [str(i) for i in row.resource_ids or [] if i]
    if not ids:
        ids = [str(r["id"]) for r in row.affected_resources or [] if isinstance(r, dict) and r.get("id")]
    return ids


def _before_end(row: Recommendation) -> date:
    """The day the before window ends (exclusive): the day the old state was last seen when the change time
    is an interval (``changed_after``), else the change day."""
    moment = row.changed_after if row.changed_after is not None else row.applied_at
    assert moment is not None
    return moment.astimezone(UTC).date()


def _measure_rows(
    session: Session, org: uuid.UUID, rows: Sequence[Recommendation], as_of: datetime, window_days: int
) -> dict[uuid.UUID, Measurement]:
    """Measurements of completed recommendations ``rows`` (one cost query for all of them)."""
    spans: dict[str, tuple[date, date]] = {}
    for row in rows:
        if row.applied_at is None:
            continue
        day, start = row.applied_at.astimezone(UTC).date(), _before_end(row)
        for rid in resource_ids_of(row):
            first, last = spans.get(rid.lower(), (start, day))
            spans[rid.lower()] = (min(first, start), max(last, day))
    links = link_replacements(session, org, rows, {row.id: resource_ids_of(row) for row in rows})
    for row in rows:
        if row.applied_at is None:
            continue
        day = row.applied_at.astimezone(UTC).date()
        for rid in links.get(row.id, []):
            first, last = spans.get(rid.lower(), (day, day))
            spans[rid.lower()] = (min(first, day), max(last, day))
    costs = load_costs(session, org, spans, window_days)
    out: dict[uuid.UUID, Measurement] = {}
    for row in rows:
        rids = [i.lower() for i in resource_ids_of(row)]
        if not rids or row.applied_at is None:
            reason = "the recommendation names no resource" if not rids else "no change time (applied_at)"
            out[row.id] = Measurement(
                status=MeasurementStatus.UNMEASURABLE,
                reason=reason,
                window_days=window_days,
                estimated_monthly=row.estimated_savings_monthly,
            )
            continue
        linked = [i.lower() for i in links.get(row.id, [])]
        currencies = sorted({cur for rid in rids + linked for cur in costs.lines.get(rid, {})})
        lines = [line for rid in set(rids) for by in costs.lines.get(rid, {}).values() for line in by]
        extra = [line for rid in set(linked) for by in costs.lines.get(rid, {}).values() for line in by]
        accounts = {a for rid in rids for a in costs.accounts.get(rid, set())}
        through = [costs.billed_through[a] for a in accounts if a in costs.billed_through]
        result = measure_lines(
            lines,
            change_day=row.applied_at.astimezone(UTC).date(),
            as_of=as_of,
            billed_through=min(through) if through else None,
            estimated_monthly=row.estimated_savings_monthly,
            currency=currencies[0] if len(currencies) == 1 else None,
            window_days=window_days,
            replacement=extra,
            replacement_ids=links.get(row.id, []),
            changed_after_day=_before_end(row),
        )
        if len(currencies) > 1:
            result = result.model_copy(
                update={
                    "status": MeasurementStatus.UNMEASURABLE,
                    "reason": f"the resources bill in more than one currency ({', '.join(currencies)})",
                    "realised_daily": None,
                    "realised_monthly": None,
                    "error_percent": None,
                    "confidence": None,
                }
            )
        out[row.id] = result
    return out


_LEDGER_STATUSES = (
    RecommendationStatus.ACTIVE.value,
    RecommendationStatus.ACCEPTED.value,
    RecommendationStatus.SCHEDULED.value,
    RecommendationStatus.APPLIED.value,
    RecommendationStatus.COMPLETED.value,
)


def measure_recommendations(
    session: Session,
    org: uuid.UUID,
    rows: Sequence[Recommendation],
    as_of: datetime,
    *,
    window_days: int = WINDOW_DAYS,
) -> dict[uuid.UUID, Measurement]:
    """The measurement of each completed recommendation of ``rows`` (of ``org``) at ``as_of``, by id (the
    savings report's realised section reads its applied recommendations through this)."""
    _check(window_days)
    return _measure_rows(session, org, [r for r in rows if r.organization_id == org], as_of, window_days)


def _check(window_days: int, limit: int = 1, offset: int = 0) -> None:
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise SavingsInputError(f"window_days must be between 1 and {MAX_WINDOW_DAYS}, got {window_days}")
    if not 1 <= limit <= 500:
        raise SavingsInputError(f"limit must be between 1 and 500, got {limit}")
    if offset < 0:
        raise SavingsInputError(f"offset must not be negative, got {offset}")


def _recommendations(session: Session, org: uuid.UUID, statuses: Sequence[str]) -> list[Recommendation]:
    statement = select(Recommendation).where(
        Recommendation.organization_id == org, Recommendation.status.in_(statuses)
    )
    return list(session.scalars(statement))


def savings_ledger(
    session: Session,
    org: uuid.UUID,
    as_of: datetime,
    *,
    window_days: int = WINDOW_DAYS,
    limit: int = 50,
    offset: int = 0,
) -> SavingsLedger:
    """The ledger of ``org`` at ``as_of`` (see :class:`~cloudoptima.domain.savings.SavingsLedger`)."""
    _check(window_days, limit, offset)
    rows = _recommendations(session, org, _LEDGER_STATUSES)
    completed = [r for r in rows if r.status == RecommendationStatus.COMPLETED.value]
    measured = _measure_rows(session, org, completed, as_of, window_days)
    counts: dict[str, int] = defaultdict(int)
    estimates: dict[str, Decimal] = defaultdict(Decimal)
    realised: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.status in (RecommendationStatus.ACTIVE.value, RecommendationStatus.SCHEDULED.value):
            bucket = "open"
        elif row.status == RecommendationStatus.ACCEPTED.value:
            bucket = "accepted"
        elif row.status == RecommendationStatus.APPLIED.value:
            bucket = "applying"
        else:
            m = measured[row.id]
            bucket = "realised" if m.status == MeasurementStatus.MEASURED else "applied"
            if m.realised_monthly is not None and m.currency is not None:
                realised[m.currency] += m.realised_monthly
        counts[bucket] += 1
        estimates[bucket] += row.estimated_savings_monthly or Decimal(0)
    buckets = {
        name: LedgerBucket(
            count=counts[name],
            estimated_monthly=estimates[name],
            realised_monthly=dict(sorted(realised.items())) if name == "realised" else {},
        )
        for name in ("open", "accepted", "applying", "applied", "realised")
    }
    buckets["accepted"] = _accepted_bucket(session, org, rows, as_of, buckets["accepted"])
    months: dict[str, list[tuple[Recommendation, Measurement]]] = defaultdict(list)
    for row in completed:
        if row.applied_at is not None:
            months[row.applied_at.astimezone(UTC).strftime("%Y-%m")].append((row, measured[row.id]))
    by_month = [_month(month, months[month]) for month in sorted(months)]
    ordered = sorted(
        completed,
        key=lambda r: (-(r.applied_at or datetime.min.replace(tzinfo=UTC)).timestamp(), str(r.id)),
    )
    items = [
        LedgerRow(
            recommendation_id=r.id,
            rule_id=r.rule_id,
            title=r.title,
            status=r.status,
            applied_at=r.applied_at,
            resource_ids=resource_ids_of(r),
            estimated_monthly=r.estimated_savings_monthly,
            measurement=measured[r.id],
        )
        for r in ordered[offset : offset + limit]
    ]
    return SavingsLedger(
        as_of=as_of,
        window_days=window_days,
        buckets=buckets,
        months=by_month,
        total=len(ordered),
        limit=limit,
        offset=offset,
        items=items,
    )


def _accepted_bucket(
    session: Session, org: uuid.UUID, rows: Sequence[Recommendation], as_of: datetime, bucket: LedgerBucket
) -> LedgerBucket:
    """``bucket`` with the accepted recommendations' owners (by e-mail) and how many are overdue at ``as_of``."""
    accepted = [r for r in rows if r.status == RecommendationStatus.ACCEPTED.value]
    owner_ids = {r.owner_user_id for r in accepted if r.owner_user_id is not None}
    emails = dict(
        session.execute(
            select(User.id, User.email).where(User.organization_id == org, User.id.in_(owner_ids))
        ).all()
        if owner_ids
        else []
    )
    owners: dict[str, int] = defaultdict(int)
    for r in accepted:
        if r.owner_user_id is not None:
            owners[emails.get(r.owner_user_id, str(r.owner_user_id))] += 1
    today = as_of.astimezone(UTC).date()
    overdue = sum(1 for r in accepted if r.due_date is not None and r.due_date < today)
    return bucket.model_copy(update={"owners": dict(sorted(owners.items())), "overdue": overdue})


def _month(month: str, items: Sequence[tuple[Recommendation, Measurement]]) -> MonthSavings:
    done = [(row, m) for row, m in items if m.status == MeasurementStatus.MEASURED]
    realised: dict[str, Decimal] = defaultdict(Decimal)
    for _row, m in done:
        if m.currency is not None and m.realised_monthly is not None:
            realised[m.currency] += m.realised_monthly
    return MonthSavings(
        month=month,
        completed=len(items),
        measured=len(done),
        estimated_monthly=sum((row.estimated_savings_monthly or Decimal(0) for row, _m in done), Decimal(0)),
        realised_monthly=dict(sorted(realised.items())),
    )


def rule_accuracy(
    session: Session, org: uuid.UUID, as_of: datetime, *, window_days: int = WINDOW_DAYS
) -> RuleAccuracyReport:
    """Per rule: measured and measuring counts, sums, mean signed and absolute error, and the flag."""
    _check(window_days)
    completed = _recommendations(session, org, (RecommendationStatus.COMPLETED.value,))
    measured = _measure_rows(session, org, completed, as_of, window_days)
    by_rule: dict[str | None, list[Measurement]] = defaultdict(list)
    for row in completed:
        by_rule[row.rule_id].append(measured[row.id])
    rules = []
    for rule_id in sorted(by_rule, key=lambda r: (r is None, r or "")):
        items = by_rule[rule_id]
        done = [m for m in items if m.status == MeasurementStatus.MEASURED]
        errors = [m.error_percent for m in done if m.error_percent is not None]
        mean = (sum(errors, Decimal(0)) / len(errors)).quantize(_PERCENT) if errors else None
        mean_abs = (
            (sum((abs(e) for e in errors), Decimal(0)) / len(errors)).quantize(_PERCENT) if errors else None
        )
        rules.append(
            RuleAccuracy(
                rule_id=rule_id,
                measured=len(done),
                measuring=sum(1 for m in items if m.status == MeasurementStatus.MEASURING),
                estimated_monthly=sum((m.estimated_monthly or Decimal(0) for m in done), Decimal(0)),
                realised_monthly=sum((m.realised_monthly or Decimal(0) for m in done), Decimal(0)),
                mean_error_percent=mean,
                mean_absolute_error_percent=mean_abs,
                flagged=mean is not None
                and len(errors) >= FLAG_MIN_MEASURED
                and abs(mean) > FLAG_ERROR_PERCENT,
                price_effect_monthly=sum((m.price_effect_monthly or Decimal(0) for m in done), Decimal(0)),
                replacement_monthly=sum((m.replacement_monthly or Decimal(0) for m in done), Decimal(0)),
            )
        )
    return RuleAccuracyReport(
        as_of=as_of,
        window_days=window_days,
        flag_threshold_percent=FLAG_ERROR_PERCENT,
        flag_min_measured=FLAG_MIN_MEASURED,
        rules=rules,
    )
