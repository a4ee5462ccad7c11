"""The cost questions of the MCP cost tools and chat: pages of a dimension's values, what moved between two
periods, and resources by billed cost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import text

from cloudoptima.domain.costs import (
    CostQueryError,
    Driver,
    Granularity,
    GroupPage,
    GroupTotal,
    PeriodDrivers,
    ResourcePage,
    ResourceSpend,
    TimePoint,
)
from cloudoptima.services.cost_analytics.queries import (
    BUCKET_SQL,
    CostQueries,
    percent,
    utc_start,
    validate_range,
)


class CostExploration(CostQueries):
    """Groups, period drivers and top resources (see the package contract)."""

    def groups(
        self,
        start: date,
        end: date,
        *,
        group_by: str = "service",
        provider: str | None = None,
        account: str | None = None,
        currency: str | None = None,
        granularity: Granularity | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> GroupPage:
        """A page of ``group_by``'s values over ``[start, end)``, largest billed cost first (then by key)."""
        validate_range(start, end)
        dimension_sql, table, source, extra = self._dimension(group_by)
        chosen = self._pick_currency(start, end, provider, currency)
        where, params = self._filters(provider, chosen, account)
        params |= extra | {"d0": start, "d1": end}
        rows_sql = "sum(row_count)" if table == "cost_daily" else "count(*)"
        grouped = (
            f"SELECT {dimension_sql} AS dim, sum(billed_cost) AS billed, sum(effective_cost), sum(list_cost), "
            f"{rows_sql} FROM {table} WHERE {where} AND {self._day(table)} >= :d0 AND {self._day(table)} < :d1 "
            "GROUP BY 1"
        )
        count = self._connection.execute(text(f"SELECT count(*) FROM ({grouped}) g"), params).scalar()
        rows = self._connection.execute(
            text(f"{grouped} ORDER BY 2 DESC, 1 OFFSET :offset LIMIT :limit"),
            {**params, "offset": offset, "limit": limit},
        ).all()
        series: list[TimePoint] = []
        if granularity is not None:
            if granularity not in BUCKET_SQL:
                raise CostQueryError(
                    f"granularity must be one of daily, weekly, monthly (got {granularity!r})"
                )
            series_rows = self._connection.execute(
                text(
                    f"SELECT {BUCKET_SQL[granularity]}, sum(billed_cost) FROM cost_daily WHERE {where} "
                    "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1 ORDER BY 1"
                ),
                params,
            ).all()
            series = self._fill_series(series_rows, start, end, granularity)
        names = self.account_names(str(row[0]) for row in rows) if group_by == "account" else {}
        return GroupPage(
            currency=chosen,
            group_by=group_by,
            total_billed_cost=self._sum(where, params),
            count=int(count or 0),
            groups=[
                GroupTotal(
                    key=str(key),
                    billed_cost=Decimal(billed),
                    effective_cost=Decimal(effective or 0),
                    list_cost=Decimal(listed or 0),
                    charge_rows=int(n or 0),
                    name=names.get(str(key)),
                )
                for key, billed, effective, listed, n in rows
            ],
            time_series=series,
            source=source,  # type: ignore[arg-type]
        )

    def compare(
        self,
        start: date,
        end: date,
        previous_start: date,
        *,
        group_by: str = "service",
        provider: str | None = None,
        account: str | None = None,
        currency: str | None = None,
    ) -> PeriodDrivers:
        """``[start, end)`` against the period of the same length from ``previous_start``, by ``group_by``:
        every value's change, largest absolute change first (then by key); changes add up to the total's."""
        validate_range(start, end)
        previous_end = previous_start + (end - start)
        dimension_sql, table, _source, extra = self._dimension(group_by)
        chosen = self._pick_currency(start, end, provider, currency)
        where, params = self._filters(provider, chosen, account)
        params |= extra
        totals: list[dict[str, Decimal]] = []
        for d0, d1 in ((start, end), (previous_start, previous_end)):
            rows = self._connection.execute(
                text(
                    f"SELECT {dimension_sql}, sum(billed_cost) FROM {table} WHERE {where} "
                    f"AND {self._day(table)} >= :d0 AND {self._day(table)} < :d1 GROUP BY 1"
                ),
                {**params, "d0": d0, "d1": d1},
            ).all()
            totals.append({str(k): Decimal(v) for k, v in rows})
        now, before = totals
        current, previous = sum(now.values(), Decimal(0)), sum(before.values(), Decimal(0))
        change = current - previous
        drivers = []
        names = self.account_names(set(now) | set(before)) if group_by == "account" else {}
        for key in set(now) | set(before):
            cur, prev = now.get(key, Decimal(0)), before.get(key, Decimal(0))
            drivers.append(
                Driver(
                    key=key,
                    current=cur,
                    previous=prev,
                    change=cur - prev,
                    change_percent=percent(cur - prev, prev),
                    share_of_change_percent=percent(cur - prev, change),
                    name=names.get(key),
                )
            )
        drivers.sort(key=lambda d: (-abs(d.change), d.key))
        return PeriodDrivers(
            currency=chosen,
            current_total=current,
            previous_total=previous,
            change=change,
            change_percent=percent(change, previous),
            drivers=drivers,
            new_keys=len(set(now) - set(before)),
            gone_keys=len(set(before) - set(now)),
        )

    def top_resources(
        self,
        start: date,
        end: date,
        *,
        provider: str | None = None,
        account: str | None = None,
        service: str | None = None,
        currency: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> ResourcePage:
        """Resources by billed cost over ``[start, end)`` from raw rows (rows without a resource id left
        out), largest first (then by id)."""
        validate_range(start, end)
        chosen = self._pick_currency(start, end, provider, currency)
        where, params = self._filters(provider, chosen, account)
        if service:
            where += " AND service_name = :service"
            params["service"] = service
        grouped = (
            "SELECT resource_id, max(resource_name), max(service_name), "
            "max(COALESCE(sub_account_id, billing_account_id)), max(region_id), provider, sum(billed_cost) "
            f"FROM cost_data WHERE {where} AND resource_id IS NOT NULL "
            "AND charge_period_start >= :t0 AND charge_period_start < :t1 GROUP BY resource_id, provider"
        )
        params |= {"t0": utc_start(start), "t1": utc_start(end)}
        count = self._connection.execute(text(f"SELECT count(*) FROM ({grouped}) g"), params).scalar()
        rows = self._connection.execute(
            text(f"{grouped} ORDER BY 7 DESC, 1 OFFSET :offset LIMIT :limit"),
            {**params, "offset": offset, "limit": limit},
        ).all()
        names = self.account_names(str(r[3]) for r in rows if r[3])
        return ResourcePage(
            currency=chosen,
            count=int(count or 0),
            resources=[
                ResourceSpend(
                    resource_id=r[0],
                    resource_name=r[1],
                    service=r[2],
                    account=r[3],
                    region=r[4],
                    provider=r[5],
                    billed_cost=Decimal(r[6]),
                    account_name=names.get(str(r[3])) if r[3] else None,
                )
                for r in rows
            ],
        )
