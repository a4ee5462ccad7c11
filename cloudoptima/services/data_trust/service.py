"""Reconcile stored costs with the provider's own totals; report freshness and the days a chart should doubt.

Contract (every query is filtered by ``organization_id``; ``now`` comes from the caller; money exact):

- :func:`reconcile_month` — for the billing month ``month`` (first day), one
  :class:`~cloudoptima.domain.data_trust.Reconciliation` per account key (provider, billing account, cloud
  account) and currency whose rows have ``billing_period_start`` in that month:

  * ``our_total`` = Σ ``cost_data.billed_cost`` of those rows (basis ``billed``).
  * For file-ingested keys the provider total is the file's own ΣBilledCost for that billing period, recorded
    at ingest (``ingest_file_totals``): the files of the *latest* load of that key (an earlier load's rows
    were replaced by it), each distinct content counted once (same SHA-256, or same rows, totals, days and
    invoice ids under another name). For collected keys (``collection:*`` rows) it is the cloud's own
    monthly total recorded at collection (``provider_month_totals``, e.g. AWS Cost Explorer MONTHLY
    UnblendedCost) in the same currency; none recorded: ``provider_total_unavailable`` with the reason
    (the connector reads none, the read failed, or no collection covered the month after it ended).
  * Like with like: ``billed`` against the provider's billed number; ``other_bases`` show effective
    (amortised), list and — AWS — blended numbers next to ours.
  * Findings: a *dropped day* is a UTC day with no rows for the key inside the month while the key has rows
    on both sides of it (from the rollup ``cost_daily``); a *missing edge day* is a day before the key's
    first or after its last day with rows in a *closed* month (the billing period is the whole month, so
    those days must exist): named, as one finding per edge; a *duplicate file* is a file whose content (hash or
    signature) was loaded again under another name — ``double_counted`` when both copies are still stored
    (one load), otherwise the later load replaced the earlier one.
  * Status per :class:`~cloudoptima.domain.data_trust.TrustPolicy`: mismatch > provider_total_unavailable >
    restating (``now`` is before the month's end + ``restatement_days``) > reconciled.

- :func:`freshness` — per account key: when its data last arrived (latest ingest of its files, or the cloud
  account's ``last_sync_at``), its latest usage day, the days still open to restatement (the last
  ``restatement_days`` days before ``now``, up to the latest usage day), and the basis of its stored cost
  (``billed``, with what that is in its source).
- Without a ``policy`` every function uses the organisation's own (``trust_*`` settings, see
  :func:`organisation_policy`).
- :func:`period_trust` — the days of ``[start, end)`` a chart should flag: days open to restatement, dropped
  days, missing edge days of closed months, and every day of a billing month with a mismatch, with the
  reasons. A month without any recorded provider total (file or collected) cannot mismatch, so only its
  dropped and missing edge days are looked up (from the rollup, not ``cost_data``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.data_trust import (
    AccountFreshness,
    AccountKey,
    BasisTotals,
    CostBasis,
    DataOrigin,
    FreshnessReport,
    PeriodTrust,
    Reconciliation,
    ReconciliationReport,
    ReconciliationStatus,
    TrustFinding,
    TrustPolicy,
    policy_of_settings,
)
from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.services.data_trust.provider_totals import AccountMonthTotals, month_totals_of

_FORMAT_BASIS = {
    "focus": "FOCUS BilledCost",
    "aws_cur": "AWS CUR lineItem/NetUnblendedCost, else lineItem/UnblendedCost (unblended)",
    "azure": "Azure cost export CostInBillingCurrency (actual or amortised, as the export was made)",
    "gcp": "GCP billing export cost (+ credits), per invoice.month",
    "oci": "OCI cost report cost/myCost",
}
_COLLECTION_BASIS = {
    "aws": "AWS Cost Explorer UnblendedCost (unblended)",
    "azure": "Azure Cost Management ActualCost (actual)",
    "gcp": "GCP billing export cost + credits (per usage day; the provider total is per invoice.month)",
}

_OUR_TOTALS = text(
    """
    SELECT provider, billing_account_id, cloud_account_id, billing_currency,
           bool_or(source_file LIKE 'collection:%') AS collected,
           sum(billed_cost) AS billed, coalesce(sum(effective_cost), 0) AS effective,
           coalesce(sum(list_cost), 0) AS list, min(charge_period_start) AS first, max(charge_period_start) AS last
    FROM cost_data
    WHERE organization_id = :org AND billing_period_start >= :m0 AND billing_period_start < :m1
      AND charge_period_start >= :c0 AND charge_period_start < :c1
      AND (CAST(:account AS uuid) IS NULL OR cloud_account_id = CAST(:account AS uuid))
    GROUP BY provider, billing_account_id, cloud_account_id, billing_currency
    """
)

_FILE_TOTALS = text(
    """
    SELECT t.batch_id, t.ingested_at, t.cloud_account_id, t.source_file, t.file_sha256, t.provider,
           t.billing_account_id, t.billing_currency, t.billed_cost, t.effective_cost, t.list_cost,
           t.row_count, t.first_day, t.last_day, t.invoice_ids, r.format
    FROM ingest_file_totals t JOIN ingest_runs r ON r.id = t.ingest_run_id AND r.organization_id = :org
    WHERE t.organization_id = :org AND t.billing_period_start >= :m0 AND t.billing_period_start < :m1
      AND (CAST(:account AS uuid) IS NULL OR t.cloud_account_id = CAST(:account AS uuid))
    ORDER BY t.ingested_at, t.source_file
    """
)

_DAYS = text(
    """
    SELECT provider, coalesce(billing_account_id, '') AS billing_account_id, cloud_account_id,
           array_agg(DISTINCT usage_date ORDER BY usage_date) AS days
    FROM cost_daily
    WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1
      AND (CAST(:account AS uuid) IS NULL OR cloud_account_id = CAST(:account AS uuid))
    GROUP BY provider, coalesce(billing_account_id, ''), cloud_account_id
    """
)

_LATEST = text(
    """
    SELECT d.provider, coalesce(d.billing_account_id, '') AS billing_account_id, d.cloud_account_id,
           max(d.usage_date) AS latest, bool_or(a.id IS NOT NULL) AS collected_account,
           max(a.last_sync_at) AS last_sync
    FROM cost_daily d LEFT JOIN cloud_accounts a ON a.id = d.cloud_account_id AND a.organization_id = :org
    WHERE d.organization_id = :org
    GROUP BY d.provider, coalesce(d.billing_account_id, ''), d.cloud_account_id
    """
)

_HAS_FILE_TOTALS = text(
    """
    SELECT 1 FROM ingest_file_totals
    WHERE organization_id = :org AND billing_period_start >= :m0 AND billing_period_start < :m1 LIMIT 1
    """
)

_HAS_PROVIDER_TOTALS = text(
    """
    SELECT 1 FROM provider_month_totals
    WHERE organization_id = :org AND month >= :d0 AND month < :d1 AND total IS NOT NULL LIMIT 1
    """
)

_ARRIVALS = text(
    """
    SELECT t.provider, t.billing_account_id, t.cloud_account_id, max(t.ingested_at) AS arrived,
           array_agg(DISTINCT r.format) AS formats
    FROM ingest_file_totals t JOIN ingest_runs r ON r.id = t.ingest_run_id AND r.organization_id = :org
    WHERE t.organization_id = :org
    GROUP BY t.provider, t.billing_account_id, t.cloud_account_id
    """
)

_SETTINGS = text("SELECT settings FROM organizations WHERE id = :org")


def month_bounds(month: date) -> tuple[date, date]:
    """``[first day, first day of next month)`` of the month containing ``month``."""
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def organisation_policy(session: Session, organization_id: uuid.UUID) -> TrustPolicy:
    """The organisation's trust policy from its ``trust_*`` settings (defaults where unset)."""
    raw = session.execute(_SETTINGS, {"org": organization_id}).scalar_one_or_none()
    settings = OrganisationSettings.of(raw)
    return policy_of_settings(
        settings.trust_tolerance_percent, settings.trust_tolerance_amount, settings.trust_restatement_days
    )


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _key(provider: str, billing_account: str | None, account: uuid.UUID | None) -> AccountKey:
    return AccountKey(provider=provider, billing_account_id=billing_account or "", cloud_account_id=account)


@dataclass
class _File:
    batch_id: uuid.UUID
    name: str
    sha: str | None
    billed: Decimal
    effective: Decimal
    listed: Decimal
    invoices: tuple[str, ...]
    signature: tuple[Any, ...]
    fmt: str | None


def _dropped_days(days: list[date], start: date, end: date) -> list[date]:
    """Days in ``[start, end)`` with no rows while rows exist on both sides (within ``days``)."""
    inside = sorted(d for d in days if start <= d < end)
    if len(inside) < 2:
        return []
    present = set(inside)
    missing = []
    day = inside[0]
    while day < inside[-1]:
        if day not in present:
            missing.append(day)
        day += timedelta(days=1)
    return missing


def _edge_days(days: list[date], start: date, end: date) -> list[tuple[str, list[date]]]:
    """The days of ``[start, end)`` before the first and after the last of ``days`` inside it, as
    ``("first", [...])`` / ``("last", [...])`` (none when no day lies inside)."""
    inside = sorted(d for d in days if start <= d < end)
    if not inside:
        return []
    edges: list[tuple[str, list[date]]] = []
    leading = [start + timedelta(days=i) for i in range((inside[0] - start).days)]
    trailing = [inside[-1] + timedelta(days=i) for i in range(1, (end - inside[-1]).days)]
    if leading:
        edges.append(("first", leading))
    if trailing:
        edges.append(("last", trailing))
    return edges


def _span(days: list[date]) -> str:
    return str(days[0]) if len(days) == 1 else f"{days[0]} – {days[-1]} ({len(days)} days)"


def _edge_findings(
    provider: str, billing: str, days: list[date], start: date, end: date
) -> list[TrustFinding]:
    """One ``missing_edge_day`` finding per missing edge of a closed billing month ``[start, end)``."""
    return [
        TrustFinding(
            kind="missing_edge_day",
            day=missing[0],
            days=missing,
            message=f"no {provider} cost rows for account {billing or '-'} on {_span(missing)}: the "
            f"{which} day{'s' if len(missing) > 1 else ''} of the closed billing month {start:%Y-%m} "
            + ("(missing, or the account started later)" if which == "first" else "(missing)"),
        )
        for which, missing in _edge_days(days, start, end)
    ]


def _collected_total(
    recorded: AccountMonthTotals | None, currency: str, provider: str
) -> tuple[dict[str, Any], str | None]:
    """The recorded provider totals of a collected key in ``currency`` by basis, or why there are none."""
    if recorded is None:
        return {}, (
            f"no {provider} monthly total recorded: it is read when a collection after the month's end "
            "covers the month"
        )
    bases = recorded.by_currency.get(currency, {})
    if "billed" in bases:
        return bases, None
    if recorded.by_currency:
        others = ", ".join(sorted(recorded.by_currency))
        return bases, f"the provider's monthly total is in {others}, not {currency}"
    return bases, recorded.reason or f"{provider} gave no monthly total"


def _duplicates(files: list[_File]) -> tuple[list[_File], list[TrustFinding]]:
    """The distinct files (first of each content, in order) and a finding per file whose content was loaded
    before under another name: against a copy in the same load (both stored: double counted) when there is
    one, else against the latest earlier load (which this one replaced)."""
    seen: dict[Any, list[_File]] = defaultdict(list)
    distinct: list[_File] = []
    findings: list[TrustFinding] = []
    for file in files:
        identities = [("sig", file.signature)] + ([("sha", file.sha)] if file.sha else [])
        earlier = [f for identity in identities for f in seen[identity]]
        for identity in identities:
            seen[identity].append(file)
        if not earlier:
            distinct.append(file)
            continue
        same_load = [f for f in earlier if f.batch_id == file.batch_id and f.name != file.name]
        other = [f for f in earlier if f.name != file.name]
        if not same_load and not other:
            continue  # the same file re-ingested under its own name: a plain replacement
        first = same_load[0] if same_load else other[-1]
        effect = (
            "both copies are stored, so its costs are counted twice"
            if same_load
            else "the later load replaced the earlier one"
        )
        findings.append(
            TrustFinding(
                kind="duplicate_file",
                message=f"{file.name} has the same content as {first.name} (loaded twice); {effect}",
                files=[first.name, file.name],
                double_counted=bool(same_load),
            )
        )
    return distinct, findings


def _basis(basis: CostBasis, ours: Decimal, provider: Decimal | None) -> BasisTotals:
    delta = None if provider is None else ours - provider
    return BasisTotals(basis=basis, our_total=ours, provider_total=provider, delta=delta)


def reconcile_month(
    session: Session,
    organization_id: uuid.UUID,
    month: date,
    now: datetime,
    *,
    cloud_account_id: uuid.UUID | None = None,
    policy: TrustPolicy | None = None,
) -> ReconciliationReport:
    """See the module contract."""
    policy = policy or organisation_policy(session, organization_id)
    m0, m1 = month_bounds(month)
    params = {
        "org": organization_id,
        "m0": _utc(m0),
        "m1": _utc(m1),
        "c0": _utc(m0 - timedelta(days=31)),
        "c1": _utc(m1 + timedelta(days=31)),
        "account": cloud_account_id,
    }
    ours = session.execute(_OUR_TOTALS, params).mappings().all()
    files_by_key: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for row in session.execute(_FILE_TOTALS, params).mappings():
        key = (row["provider"], row["billing_account_id"], row["cloud_account_id"], row["billing_currency"])
        files_by_key[key].append(row)
    day_rows = session.execute(
        _DAYS, {"org": organization_id, "d0": m0, "d1": m1, "account": cloud_account_id}
    ).mappings()
    days_by_key = {
        (r["provider"], r["billing_account_id"], r["cloud_account_id"]): r["days"] for r in day_rows
    }
    closed = now >= _utc(m1) + timedelta(days=policy.restatement_days)
    label = f"{m0:%Y-%m}"
    recorded = month_totals_of(session.connection(), organization_id, m0, cloud_account_id)
    results: list[Reconciliation] = []
    for row in ours:
        provider, billing, account, currency = (
            row["provider"],
            row["billing_account_id"],
            row["cloud_account_id"],
            row["billing_currency"],
        )
        our_total = Decimal(row["billed"] or 0)
        origin: DataOrigin = "collection" if row["collected"] else "file"
        findings = [
            TrustFinding(
                kind="dropped_day",
                day=day,
                message=f"no {provider} cost rows for account {billing or '-'} on {day} "
                "although there are rows before and after it",
            )
            for day in _dropped_days(days_by_key.get((provider, billing or "", account), []), m0, m1)
        ]
        provider_total: Decimal | None = None
        provider_effective: Decimal | None = None
        provider_list: Decimal | None = None
        invoices: list[str] = []
        provider_basis = _COLLECTION_BASIS.get(provider, "provider cost API")
        source: str | None = None
        reason: str | None = None
        extra: list[BasisTotals] = []
        file_rows = files_by_key.get((provider, billing, account, currency), [])
        if origin == "file" and file_rows:
            latest_batch = file_rows[-1]["batch_id"]
            files = [
                _File(
                    batch_id=f["batch_id"],
                    name=f["source_file"],
                    sha=f["file_sha256"],
                    billed=Decimal(f["billed_cost"]),
                    effective=Decimal(f["effective_cost"]),
                    listed=Decimal(f["list_cost"]),
                    invoices=tuple(f["invoice_ids"] or ()),
                    signature=(
                        f["row_count"],
                        Decimal(f["billed_cost"]),
                        Decimal(f["effective_cost"]),
                        Decimal(f["list_cost"]),
                        f["first_day"],
                        f["last_day"],
                        tuple(f["invoice_ids"] or ()),
                    ),
                    fmt=f["format"],
                )
                for f in file_rows
            ]
            findings.extend(_duplicates(files)[1])
            current = _duplicates([f for f in files if f.batch_id == latest_batch])[0]
            provider_total = sum((f.billed for f in current), Decimal(0))
            provider_effective = sum((f.effective for f in current), Decimal(0))
            provider_list = sum((f.listed for f in current), Decimal(0))
            invoices = sorted({i for f in current for i in f.invoices})[:20]
            formats = sorted({f.fmt or "" for f in current})
            provider_basis = "; ".join(_FORMAT_BASIS.get(fmt, fmt or "file") for fmt in formats)
            source = "billing file totals: " + ", ".join(sorted({f.name for f in current}))
        elif origin == "file":
            reason = "no billing file totals recorded for this period (files loaded before totals were kept)"
        else:
            bases, reason = _collected_total(recorded.get(account) if account else None, currency, provider)
            if "billed" in bases:
                provider_total = bases["billed"].total
                source = (
                    f"{bases['billed'].source}, recorded {bases['billed'].recorded_at:%Y-%m-%d %H:%M} UTC"
                )
            if "effective" in bases:
                provider_effective = bases["effective"].total
            if "blended" in bases:
                blended = bases["blended"]
                extra.append(
                    BasisTotals(
                        basis="blended",
                        our_total=None,
                        provider_total=blended.total,
                        delta=None,
                        provider_source=blended.source,
                    )
                )
        if closed:  # after the duplicate files (the graver finding)
            days = days_by_key.get((provider, billing or "", account), [])
            findings += _edge_findings(provider, billing, days, m0, m1)
        comparison = (
            f"billed vs billed: our Σ billed cost of the stored rows against the provider's {provider_basis}"
            if provider_total is not None
            else "billed: our Σ billed cost of the stored rows; no provider number to compare with"
        )
        delta = tolerance = percent = None
        status: ReconciliationStatus
        if provider_total is None:
            status = "provider_total_unavailable"
        else:
            delta = our_total - provider_total
            tolerance = policy.tolerance(provider_total)
            percent = (delta / provider_total * 100).quantize(Decimal("0.0001")) if provider_total else None
            status = "mismatch" if abs(delta) > tolerance else "reconciled" if closed else "restating"
        results.append(
            Reconciliation(
                account=_key(provider, billing, account),
                month=label,
                currency=currency,
                origin=origin,
                provider_basis=provider_basis,
                provider_source=source,
                comparison=comparison,
                unavailable_reason=reason if provider_total is None else None,
                other_bases=[
                    _basis("effective", Decimal(row["effective"]), provider_effective),
                    _basis("list", Decimal(row["list"]), provider_list),
                    *extra,
                ],
                our_total=our_total,
                provider_total=provider_total,
                delta=delta,
                delta_percent=percent,
                tolerance=tolerance,
                status=status,
                month_closed=closed,
                first_day=row["first"].date() if row["first"] else None,
                last_day=row["last"].date() if row["last"] else None,
                findings=findings,
                invoice_ids=invoices,
            )
        )
    results.sort(key=lambda r: (r.account.provider, r.account.billing_account_id, r.currency))
    return ReconciliationReport(month=label, as_of=now, policy=policy, accounts=results)


def freshness(
    session: Session, organization_id: uuid.UUID, now: datetime, *, policy: TrustPolicy | None = None
) -> FreshnessReport:
    """See the module contract."""
    policy = policy or organisation_policy(session, organization_id)
    restating_from = now.date() - timedelta(days=policy.restatement_days)
    arrivals = {
        (r["provider"], r["billing_account_id"], r["cloud_account_id"]): (r["arrived"], r["formats"] or [])
        for r in session.execute(_ARRIVALS, {"org": organization_id}).mappings()
    }
    accounts: list[AccountFreshness] = []
    for row in session.execute(_LATEST, {"org": organization_id}).mappings():
        key = (row["provider"], row["billing_account_id"], row["cloud_account_id"])
        arrived, formats = arrivals.get(key, (None, []))
        origin: DataOrigin = "file"
        basis_source = (
            "; ".join(_FORMAT_BASIS.get(f, f) for f in sorted(f for f in formats if f)) or "FOCUS BilledCost"
        )
        if arrived is None and (row["last_sync"] is not None or row["collected_account"]):
            arrived, origin = row["last_sync"], "collection"
            basis_source = _COLLECTION_BASIS.get(row["provider"], "provider cost API")
        latest: date | None = row["latest"]
        open_days: list[date] = []
        if latest is not None:
            day = restating_from
            while day <= latest:
                open_days.append(day)
                day += timedelta(days=1)
        accounts.append(
            AccountFreshness(
                account=_key(*key),
                origin=origin,
                basis_source=basis_source,
                last_arrived_at=arrived,
                latest_usage_day=latest,
                restating_from=restating_from,
                restating_days=open_days,
            )
        )
    accounts.sort(key=lambda a: (a.account.provider, a.account.billing_account_id))
    return FreshnessReport(as_of=now, restatement_days=policy.restatement_days, accounts=accounts)


def period_trust(
    session: Session,
    organization_id: uuid.UUID,
    start: date,
    end: date,
    now: datetime,
    *,
    policy: TrustPolicy | None = None,
) -> PeriodTrust:
    """See the module contract."""
    policy = policy or organisation_policy(session, organization_id)
    reasons: dict[date, list[str]] = defaultdict(list)
    restating_from = now.date() - timedelta(days=policy.restatement_days)
    day = max(start, restating_from)
    while day < end:
        reasons[day].append("open to restatement by the provider")
        day += timedelta(days=1)
    month = start.replace(day=1)
    while month < end:
        m0, m1 = month_bounds(month)
        month = m1
        window = {"org": organization_id, "m0": _utc(m0), "m1": _utc(m1)}
        has_totals = session.execute(_HAS_FILE_TOTALS, window).first() is not None or (
            session.execute(_HAS_PROVIDER_TOTALS, {"org": organization_id, "d0": m0, "d1": m1}).first()
            is not None
        )
        if not has_totals:
            # No provider totals for this month: no mismatch is possible; only dropped and missing edge days
            # (from the rollup).
            closed = now >= _utc(m1) + timedelta(days=policy.restatement_days)
            day_rows = session.execute(_DAYS, {"org": organization_id, "d0": m0, "d1": m1, "account": None})
            for row in day_rows.mappings():
                name = f"{row['provider']} {row['billing_account_id'] or '-'}"
                for missing in _dropped_days(row["days"], m0, m1):
                    if start <= missing < end:
                        reasons[missing].append(f"{name}: no rows (dropped day)")
                for which, edge in _edge_days(row["days"], m0, m1) if closed else []:
                    for missing in edge:
                        if start <= missing < end:
                            reasons[missing].append(f"{name}: no rows ({which} days of a closed month)")
            continue
        report = reconcile_month(session, organization_id, m0, now, policy=policy)
        for item in report.accounts:
            name = f"{item.account.provider} {item.account.billing_account_id or '-'}"
            for finding in item.findings:
                if finding.kind == "dropped_day" and finding.day and start <= finding.day < end:
                    reasons[finding.day].append(f"{name}: no rows (dropped day)")
                if finding.kind == "missing_edge_day":
                    which = "first" if finding.day == m0 else "last"
                    for missing in finding.days:
                        if start <= missing < end:
                            reasons[missing].append(f"{name}: no rows ({which} days of a closed month)")
            if item.status == "mismatch":
                day = max(m0, start)
                while day < min(m1, end):
                    reasons[day].append(f"{name}: {item.month} does not match the provider total")
                    day += timedelta(days=1)
    days = sorted(reasons)
    return PeriodTrust(start=start, end=end, unreconciled_days=days, reasons={d: reasons[d] for d in days})
