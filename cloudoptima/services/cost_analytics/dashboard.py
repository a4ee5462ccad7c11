"""The dashboard's cost questions: the seed's ``/costs/overview`` (total, previous period, breakdown, time
series) and month-to-date by service with each service's top resources."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import text

from cloudoptima.analytics.month_to_date import month_to_date
from cloudoptima.domain.cost_filters import CostFilters
from cloudoptima.domain.costs import (
    BreakdownItem,
    CostOverview,
    CostQueryError,
    CostsByService,
    Granularity,
    PeriodComparison,
    ResourceCost,
    ServiceCost,
    TrendBasis,
)
from cloudoptima.services.cost_analytics.filters import check_accounts, filter_sql, group_series
from cloudoptima.services.cost_analytics.queries import (
    BUCKET_SQL,
    CostQueries,
    percent,
    utc_start,
    validate_range,
)

_CENT = Decimal("0.01")


def _cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to cents as the API writes money (half to even)."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def trend_basis(today: date) -> TrendBasis:
    """Month to date on ``today`` (its complete days, through yesterday) against the same days of the previous
    month, clamped to that month's last day (:func:`cloudoptima.analytics.month_to_date.month_to_date`)."""
    return month_to_date(today)


class DashboardCosts(CostQueries):
    """Overview and by-service costs (see the package contract)."""

    def overview(
        self,
        start: date,
        end: date,
        *,
        granularity: Granularity = "daily",
        group_by: str = "service",
        provider: str | None = None,
        currency: str | None = None,
        breakdown_limit: int = 50,
        filters: CostFilters | None = None,
        series_groups: int = 0,
        previous: tuple[date, date] | None = None,
        basis: TrendBasis | None = None,
    ) -> CostOverview:
        """The seed's ``/costs/overview`` for ``[start, end)``; previous period = same length just before.

        ``filters`` narrow every figure (total, previous period, breakdown, series); ``series_groups`` > 0
        adds ``group_series``: the largest ``series_groups`` groups' series and an ``other`` remainder, read
        from the same table as the breakdown (see :func:`filters.group_series` for the exact-sum rule).
        ``previous`` replaces the comparison period (``[start, end)`` of the previous period); ``basis`` is
        echoed as ``trend_basis`` (what a month-to-date answer covers)."""
        validate_range(start, end)
        if granularity not in BUCKET_SQL:
            raise CostQueryError(f"granularity must be one of daily, weekly, monthly (got {granularity!r})")
        dimension_sql, table, source, extra = self._dimension(group_by)
        if filters is not None:
            check_accounts(self._connection, self._org, filters.accounts)
        daily_filter, filter_params = filter_sql(filters, "cost_daily", self._tag_keys)
        table_filter, _ = filter_sql(filters, table, self._tag_keys)
        chosen = self._pick_currency(start, end, provider, currency)
        base, params = self._filters(provider, chosen)
        where, table_where = base + daily_filter, base + table_filter
        params.update(extra)
        params.update(filter_params)
        length = end - start
        prev_start, prev_end = previous if previous is not None else (start - length, start)
        span = {"d0": start, "d1": end}
        total = self._sum(where, {**params, **span})
        before = self._sum(where, {**params, "d0": prev_start, "d1": prev_end})
        breakdown_rows = self._connection.execute(
            text(
                f"SELECT {dimension_sql} AS dim, sum(billed_cost) AS cost FROM {table} WHERE {table_where} "
                f"AND {self._day(table)} >= :d0 AND {self._day(table)} < :d1 GROUP BY 1 ORDER BY 2 DESC, 1 "
                "LIMIT :limit"
            ),
            {**params, **span, "limit": breakdown_limit},
        ).all()
        series_rows = self._connection.execute(
            text(
                f"SELECT {BUCKET_SQL[granularity]} AS bucket, sum(billed_cost) FROM cost_daily WHERE {where} "
                "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1 ORDER BY 1"
            ),
            {**params, **span},
        ).all()
        names = self.account_names(str(dim) for dim, _ in breakdown_rows) if group_by == "account" else {}
        time_series = self._fill_series(series_rows, start, end, granularity)
        by_group = []
        if series_groups > 0:
            top = [(str(dim), names.get(str(dim))) for dim, _ in breakdown_rows[:series_groups]]
            bucket = BUCKET_SQL[granularity].replace("usage_date", self._day(table))
            rows = self._connection.execute(
                text(
                    f"SELECT {bucket} AS bucket, {dimension_sql} AS dim, sum(billed_cost) FROM {table} "
                    f"WHERE {table_where} AND {self._day(table)} >= :d0 AND {self._day(table)} < :d1 "
                    f"AND {dimension_sql} = ANY(:top) GROUP BY 1, 2"
                ),
                {**params, **span, "top": [key for key, _ in top]},
            ).all()
            by_group = group_series(time_series, rows, top)
        return CostOverview(
            start_date=start,
            end_date=end,
            granularity=granularity,
            group_by=group_by,
            provider=provider,
            currency=chosen,
            total_cost=total,
            period_comparison=PeriodComparison(
                previous_period=before,
                previous_start=prev_start,
                previous_end=prev_end,
                # The difference of the two totals as shown (in cents), so "this − previous" adds up on screen.
                change_amount=_cents(total) - _cents(before),
                change_percent=percent(total - before, before),
            ),
            breakdown=[
                BreakdownItem(
                    dimension=str(dim),
                    cost=Decimal(cost),
                    percentage=percent(Decimal(cost), total) or Decimal(0),
                    name=names.get(str(dim)),
                )
                for dim, cost in breakdown_rows
            ],
            time_series=time_series,
            source=source,
            group_series=by_group,
            trend_basis=basis,
        )

    # ---- by service -------------------------------------------------------------------------------------
    def by_service(
        self, today: date, *, provider: str | None = None, currency: str | None = None, top_resources: int = 5
    ) -> CostsByService:
        """Month to date (its complete days, see :func:`trend_basis`) per service against the same days of the
        previous month (``trend``) and the whole month before month to date's month (``last_month``), with
        each service's top resources."""
        basis = trend_basis(today)
        month, previous, tomorrow = basis.current_start, basis.previous_start, basis.current_end
        chosen = self._pick_currency(previous, tomorrow, provider, currency)
        where, params = self._filters(provider, chosen)
        rows = self._connection.execute(
            text(
                f"""
                SELECT COALESCE(service_name, '(none)'), provider,
                       sum(billed_cost) FILTER (WHERE usage_date >= :m0 AND usage_date < :m1),
                       sum(billed_cost) FILTER (WHERE usage_date >= :p0 AND usage_date < :m0),
                       sum(billed_cost) FILTER (WHERE usage_date >= :p0 AND usage_date < :p1)
                FROM cost_daily WHERE {where} AND usage_date >= :p0 AND usage_date < :m1
                GROUP BY 1, 2 ORDER BY 3 DESC NULLS LAST, 1
                """
            ),
            {**params, "m0": month, "m1": tomorrow, "p0": previous, "p1": basis.previous_end},
        ).all()
        top = self._top_resources(where, params, month, tomorrow, top_resources)
        services = []
        for name, prov, current, last, same_days in rows:
            current_d, last_d, same_d = Decimal(current or 0), Decimal(last or 0), Decimal(same_days or 0)
            services.append(
                ServiceCost(
                    service_name=name,
                    provider=prov,
                    current_month=current_d,
                    last_month=last_d,
                    last_month_same_days=same_d,
                    trend=percent(current_d - same_d, same_d),
                    top_resources=top.get((name, prov), []),
                )
            )
        return CostsByService(currency=chosen, month_start=month, trend_basis=basis, services=services)

    def _top_resources(
        self, where: str, params: dict[str, Any], start: date, end: date, limit: int
    ) -> dict[tuple[str, str], list[ResourceCost]]:
        rows = self._connection.execute(
            text(
                f"""
                SELECT service, provider, resource_id, cost FROM (
                    SELECT COALESCE(service_name, '(none)') AS service, provider, resource_id,
                           sum(billed_cost) AS cost,
                           row_number() OVER (PARTITION BY COALESCE(service_name, '(none)'), provider
                                              ORDER BY sum(billed_cost) DESC, resource_id) AS rank
                    FROM cost_data
                    WHERE {where} AND resource_id IS NOT NULL
                      AND charge_period_start >= :t0 AND charge_period_start < :t1
                    GROUP BY 1, 2, 3
                ) ranked WHERE rank <= :limit
                """
            ),
            {**params, "t0": utc_start(start), "t1": utc_start(end), "limit": limit},
        ).all()
        top: dict[tuple[str, str], list[ResourceCost]] = {}
        for service, prov, resource, cost in rows:
            top.setdefault((service, prov), []).append(ResourceCost(resource_id=resource, cost=Decimal(cost)))
        return top
