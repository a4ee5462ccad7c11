"""``data_trust``: can the cost numbers be believed? (#21)

Contract (over :mod:`cloudoptima.services.data_trust.service`, the service ``/v1/data`` uses; permission
``read:costs``; ``now`` from the tool context):
- ``month`` (``YYYY-MM``, default: the month before ``now``'s) selects the billing month reconciled; per
  account and currency: our total and the provider's (``provider_basis`` names it), delta, delta %,
  tolerance, status (reconciled / mismatch / provider_total_unavailable with the reason / restating) and
  findings (dropped days, missing first or last days of a closed month, duplicated files). The policy is the
  organisation's (``trust_*`` settings). ``cloud_account_id`` narrows to one cloud account.
- Freshness per account: last arrival, latest usage day, days still open to restatement.
- At most :data:`MAX_ACCOUNTS` accounts per list (mismatches first), at most 3 findings each (without file
  lists), and fewer when the answer would be over :data:`BUDGET` tokens; ``accounts_left_off`` counts the rows
  left off (the REST API ``/v1/data/reconciliation`` has them all).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.data_trust import AccountFreshness, Reconciliation, ReconciliationReport, TrustPolicy
from cloudoptima.services.data_trust.service import freshness, reconcile_month
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolSpec, estimate_tokens

MAX_ACCOUNTS = 25
BUDGET = 8_000
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_ORDER = {"mismatch": 0, "provider_total_unavailable": 1, "restating": 2, "reconciled": 3}


class DataTrustInput(ToolInput):
    month: str | None = Field(default=None, description="Billing month YYYY-MM (default: last month).")
    cloud_account_id: str | None = Field(default=None, description="Only this cloud account (uuid).")


class DataTrustOutput(BaseModel):
    month: str
    policy: TrustPolicy
    reconciliation: list[Reconciliation]
    freshness: list[AccountFreshness]
    accounts_left_off: int = 0


def data_trust(ctx: ToolContext, params: DataTrustInput) -> DataTrustOutput:
    now = ctx.now()
    if params.month is None:
        first = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    else:
        match = _MONTH.match(params.month)
        if match is None or not 1970 <= int(match.group(1)) <= 9000:
            raise ToolInputError(f"month: expected YYYY-MM, got {params.month!r}")
        first = date(int(match.group(1)), int(match.group(2)), 1)
    account: uuid.UUID | None = None
    if params.cloud_account_id is not None:
        try:
            account = uuid.UUID(params.cloud_account_id)
        except ValueError:
            raise ToolInputError(f"cloud_account_id: not a uuid: {params.cloud_account_id!r}") from None
    with ctx.read_session() as session:
        report = reconcile_month(session, ctx.organization_id, first, now, cloud_account_id=account)
        fresh = freshness(session, ctx.organization_id, now)
    accounts = [a for a in fresh.accounts if account is None or a.account.cloud_account_id == account]
    return bounded_output(report, accounts)


def bounded_output(report: ReconciliationReport, accounts: list[AccountFreshness]) -> DataTrustOutput:
    """The tool's answer within :data:`BUDGET` (module contract)."""
    items = sorted(report.accounts, key=lambda r: _ORDER[r.status])
    kept_items = [_trim(r) for r in items[:MAX_ACCOUNTS]]
    kept_accounts = [_trim_fresh(a) for a in accounts[:MAX_ACCOUNTS]]

    def output() -> DataTrustOutput:
        return DataTrustOutput(
            month=report.month,
            policy=report.policy,
            reconciliation=kept_items,
            freshness=kept_accounts,
            accounts_left_off=len(items) - len(kept_items) + len(accounts) - len(kept_accounts),
        )

    result = output()
    while estimate_tokens(result.model_dump_json()) > BUDGET - 256 and (kept_items or kept_accounts):
        # Drop from the end (reconciled accounts, then the last freshness rows) until it fits.
        if kept_items and len(kept_items) >= len(kept_accounts):
            kept_items.pop()
        else:
            kept_accounts.pop()
        result = output()
    return result


def _trim(item: Reconciliation) -> Reconciliation:
    """At most 3 findings without their file and day lists (the messages name them), sources as a count."""
    source = item.provider_source
    if source is not None and source.count(",") >= 2:
        source = f"billing file totals: {source.count(',') + 1} files"
    findings = [f.model_copy(update={"files": [], "days": []}) for f in item.findings[:3]]
    return item.model_copy(update={"findings": findings, "provider_source": source})


def _trim_fresh(item: AccountFreshness) -> AccountFreshness:
    return item.model_copy(update={"restating_days": item.restating_days[:10]})


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="data_trust",
        domain="platform",
        title="Cost data trust",
        description=(
            "Can the cost numbers be believed? Per account and billing month: our total vs the provider's own "
            "total (basis named: billed = FOCUS BilledCost / AWS unblended), delta, tolerance, status "
            "(reconciled, mismatch, provider_total_unavailable, restating), dropped or missing first/last days "
            "and duplicated files; and per account when data last arrived and which days the provider may "
            "still restate.\n"
            'Example: {"month": "2024-09"}'
        ),
        input_model=DataTrustInput,
        output_model=DataTrustOutput,
        handler=data_trust,
        permission="read:costs",
        max_output_tokens=BUDGET,
        example={"month": "2024-09"},
    ),
]
