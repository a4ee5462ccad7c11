"""The provider-total step: the cloud's own total of each closed billing month a collection touched, recorded
for reconciliation (``cloudoptima.services.data_trust``, #21).

Contract: :func:`collect_month_totals` takes the months intersecting ``[start, end)`` (the collection plan)
whose last day is before ``today`` (a month still running has no final total) — on an account's first sync
not the month ``start`` falls inside when it does not begin it (those earlier days were never collected, so
that month's total could only mismatch) — asks the connector for their
totals when it has the :class:`~cloudoptima.clouds.month_totals.MonthTotalsSource` capability, and replaces
the account's recorded totals of those months (one transaction). Best effort, never raises a provider error:
a connector without the capability, a read that fails (permission denied, throttled, unavailable) or a month
the provider gives no number for is recorded as *unavailable* with the reason, so the reconciliation can say
why. Returns the number of months that got a billed total.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from cloudoptima.clouds.month_totals import MonthTotal, MonthTotalsSource, months_between, next_month
from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError, ProviderError
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.results import AccountRef
from cloudoptima.services.data_trust.provider_totals import record_month_totals
from cloudoptima.storage.models import CloudAccount


def closed_months(start: date, end: date, today: date, *, first_sync: bool = False) -> list[date]:
    """First days of the months intersecting ``[start, end)`` that ended before ``today`` (on a first sync,
    without a month that begins before ``start``)."""
    return [
        m for m in months_between(start, end) if next_month(m) <= today and not (first_sync and m < start)
    ]


def collect_month_totals(
    context: CollectionContext,
    ref: AccountRef,
    row: CloudAccount,
    provider: CloudProviderClient,
    start: date,
    end: date,
    today: date,
    connection: Connection | None = None,
    *,
    first_sync: bool = False,
) -> int:
    """See the module contract."""
    months = closed_months(start, end, today, first_sync=first_sync)
    if not months:
        return 0
    totals: list[MonthTotal] = []
    reason = f"{row.provider} gave no total for this month"
    if not isinstance(provider, MonthTotalsSource):
        reason = f"this {row.provider} connector ({type(provider).__name__}) reads no provider monthly total"
    else:
        try:
            totals = provider.month_totals(months[0], next_month(months[-1]))
        except CredentialsError as error:
            reason = (
                f"permission {error.permission} denied: the provider's monthly total could not be read"
                if error.permission
                else f"credentials refused reading the provider's monthly total: {error}"
            )
        except ProviderError as error:
            reason = f"reading the provider's monthly total failed: {error}"
    with context.transaction(connection) as tx:
        record_month_totals(
            tx,
            organization_id=ref.organization_id,
            cloud_account_id=ref.cloud_account_id,
            provider=row.provider,
            account_identifier=row.account_identifier,
            months=months,
            totals=totals,
            reason=reason,
            recorded_at=context.now(),
        )
    return len({t.month for t in totals if t.basis == "billed"})
