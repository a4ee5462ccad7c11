"""Cost analytics over the ``cost_daily`` rollup (never raw rows for dashboard questions).

``overview`` answers the seed's ``/costs/overview``: total, previous-period comparison, breakdown with
percentages and a time series at daily / weekly (ISO weeks, Monday) / monthly granularity. ``group_by`` is a
base dimension or ``tag:<key>``; tag keys outside the organisation's rollup keys fall back to raw rows (and
say so in ``source``). Mixed currencies are never summed: the caller must pick one when data has several.
``groups`` (a page of a dimension's values with billed/effective/list cost), ``compare`` (what moved between
two periods) and ``top_resources`` (resources by billed cost, from raw rows) answer the MCP cost tools and
chat: REST, MCP and chat read costs through this one class.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, text

from cloudoptima.domain.costs import (
    BASE_DIMENSIONS,
    MAX_RANGE_DAYS,
    BreakdownItem,
    CostOverview,
    CostQueryError,
    CostsByService,
    Driver,
    Granularity,
    GroupPage,
    GroupTotal,
    PeriodComparison,
    PeriodDrivers,
    ResourceCost,
    ResourcePage,
    ResourceSpend,
    ServiceCost,
    TimePoint,
)
from cloudoptima.services.ingestion import rollup_tag_keys
from cloudoptima.storage.cost_loader import DEFAULT_ROLLUP_TAG_KEYS
from cloudoptima.storage.partitions import next_month

_DIMENSION_SQL = {
    "service": "COALESCE(service_name, '(none)')",
    "region": "COALESCE(region_id, '(none)')",
    "account": "COALESCE(sub_account_id, billing_account_id, '(none)')",
    "provider": "provider",
    "category": "COALESCE(service_category, '(none)')",
    "charge_category": "COALESCE(charge_category, '(none)')",
}
_BUCKET_SQL = {
    "daily": "usage_date",
    "weekly": "date_trunc('week', usage_date)::date",
    "monthly": "date_trunc('month', usage_date)::date",
}
_CENT = Decimal("0.01")


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole * 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def _validate_range(start: date, end: date) -> None:
    if end <= start:
        raise CostQueryError(f"end_date {end} must be after start_date {start} (end is exclusive)")
    if (end - start).days > MAX_RANGE_DAYS:
        raise CostQueryError(
            f"date range of {(end - start).days} days exceeds the maximum of {MAX_RANGE_DAYS}"
        )


class CostAnalytics:
    """Cost questions for one organisation over one connection (the caller scopes and closes it)."""

    def __init__(
        self, connection: Connection, organization_id: uuid.UUID, tag_keys: tuple[str, ...] | None = None
    ):
        self._connection = connection
        self._org = organization_id
        self._tag_keys = tag_keys or DEFAULT_ROLLUP_TAG_KEYS

    @classmethod
    def for_organisation(cls, connection: Connection, organization_id: uuid.UUID) -> CostAnalytics:
        """Analytics with the organisation's configured rollup tag keys (``organizations.settings``)."""
        settings = connection.execute(
            text("SELECT settings FROM organizations WHERE id = :org"), {"org": organization_id}
        ).scalar()
        return cls(connection, organization_id, rollup_tag_keys(settings or {}))

    # ---- shared filters ---------------------------------------------------------------------------------
    def _filters(
        self, provider: str | None, currency: str | None, account: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        clauses = ["organization_id = :org"]
        params: dict[str, Any] = {"org": self._org}
        if provider:
            clauses.append("provider = :provider")
            params["provider"] = provider.lower()
        if account:
            clauses.append("(sub_account_id = :account OR billing_account_id = :account)")
            params["account"] = account
        if currency:
            clauses.append("billing_currency = :currency")
            params["currency"] = currency.upper()
        return " AND ".join(clauses), params

    def currencies(self, start: date, end: date, provider: str | None = None) -> list[str]:
        where, params = self._filters(provider, None)
        rows = self._connection.execute(
            text(
                f"SELECT DISTINCT billing_currency FROM cost_daily WHERE {where} "
                "AND usage_date >= :d0 AND usage_date < :d1 ORDER BY 1"
            ),
            {**params, "d0": start, "d1": end},
        )
        return [str(r[0]) for r in rows]

    def _pick_currency(self, start: date, end: date, provider: str | None, currency: str | None) -> str:
        found = self.currencies(start, end, provider)
        if currency:
            return currency.upper()
        if len(found) > 1:
            raise CostQueryError(
                f"costs in this period are in several currencies ({', '.join(found)}); pass currency= to choose one"
            )
        return found[0] if found else "USD"

    # ---- overview -------------------------------------------------------------------------------------------
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
    ) -> CostOverview:
        """The seed's ``/costs/overview`` for ``[start, end)``; previous period = same length just before."""
        _validate_range(start, end)
        if granularity not in _BUCKET_SQL:
            raise CostQueryError(f"granularity must be one of daily, weekly, monthly (got {granularity!r})")
        dimension_sql, table, source, extra = self._dimension(group_by)
        chosen = self._pick_currency(start, end, provider, currency)
        where, params = self._filters(provider, chosen)
        params.update(extra)
        length = end - start
        prev_start, prev_end = start - length, start
        span = {"d0": start, "d1": end}
        total = self._sum(where, {**params, **span})
        previous = self._sum(where, {**params, "d0": prev_start, "d1": prev_end})
        breakdown_rows = self._connection.execute(
            text(
                f"SELECT {dimension_sql} AS dim, sum(billed_cost) AS cost FROM {table} WHERE {where} "
                f"AND {self._day(table)} >= :d0 AND {self._day(table)} < :d1 GROUP BY 1 ORDER BY 2 DESC, 1 "
                "LIMIT :limit"
            ),
            {**params, **span, "limit": breakdown_limit},
        ).all()
        series_rows = self._connection.execute(
            text(
                f"SELECT {_BUCKET_SQL[granularity]} AS bucket, sum(billed_cost) FROM cost_daily WHERE {where} "
                "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1 ORDER BY 1"
            ),
            {**params, **span},
        ).all()
        return CostOverview(
            start_date=start,
            end_date=end,
            granularity=granularity,
            group_by=group_by,
            provider=provider,
            currency=chosen,
            total_cost=total,
            period_comparison=PeriodComparison(
                previous_period=previous,
                previous_start=prev_start,
                previous_end=prev_end,
                change_amount=total - previous,
                change_percent=_percent(total - previous, previous),
            ),
            breakdown=[
                BreakdownItem(
                    dimension=str(dim),
                    cost=Decimal(cost),
                    percentage=_percent(Decimal(cost), total) or Decimal(0),
                )
                for dim, cost in breakdown_rows
            ],
            time_series=self._fill_series(series_rows, start, end, granularity),
            source=source,
        )

    def _dimension(self, group_by: str) -> tuple[str, str, str, dict[str, Any]]:
        if group_by in _DIMENSION_SQL:
            return _DIMENSION_SQL[group_by], "cost_daily", "rollup", {}
        if group_by.startswith("tag:") and len(group_by) > 4:
            key = group_by[4:]
            if key in self._tag_keys:
                return (
                    "COALESCE(tag_values ->> :tag_key, '(untagged)')",
                    "cost_daily",
                    "rollup",
                    {"tag_key": key},
                )
            return "COALESCE(tags ->> :tag_key, '(untagged)')", "cost_data", "raw", {"tag_key": key}
        allowed = ", ".join((*BASE_DIMENSIONS, "tag:<key>"))
        raise CostQueryError(f"group_by must be one of {allowed} (got {group_by!r})")

    @staticmethod
    def _day(table: str) -> str:
        if table == "cost_daily":
            return "usage_date"
        return "(charge_period_start AT TIME ZONE 'UTC')::date"

    def _sum(self, where: str, params: dict[str, Any]) -> Decimal:
        value = self._connection.execute(
            text(
                f"SELECT COALESCE(sum(billed_cost), 0) FROM cost_daily WHERE {where} AND usage_date >= :d0 AND usage_date < :d1"
            ),
            params,
        ).scalar()
        return Decimal(value or 0)

    @staticmethod
    def _fill_series(rows: Any, start: date, end: date, granularity: Granularity) -> list[TimePoint]:
        found = {row[0]: Decimal(row[1]) for row in rows}
        points: list[TimePoint] = []
        if granularity == "daily":
            cursor = start
        elif granularity == "weekly":
            cursor = start - timedelta(days=start.weekday())
        else:
            cursor = start.replace(day=1)
        while cursor < end:
            points.append(TimePoint(date=cursor, cost=found.get(cursor, Decimal(0))))
            if granularity == "daily":
                cursor += timedelta(days=1)
            elif granularity == "weekly":
                cursor += timedelta(days=7)
            else:
                cursor = next_month(cursor)
        return points

    # ---- by service -------------------------------------------------------------------------------------
    def by_service(
        self, today: date, *, provider: str | None = None, currency: str | None = None, top_resources: int = 5
    ) -> CostsByService:
        """Month-to-date vs the whole previous month per service, with each service's top resources."""
        month = today.replace(day=1)
        previous = (month - timedelta(days=1)).replace(day=1)
        tomorrow = today + timedelta(days=1)
        chosen = self._pick_currency(previous, tomorrow, provider, currency)
        where, params = self._filters(provider, chosen)
        rows = self._connection.execute(
            text(
                f"""
                SELECT COALESCE(service_name, '(none)'), provider,
                       sum(billed_cost) FILTER (WHERE usage_date >= :m0 AND usage_date < :m1),
                       sum(billed_cost) FILTER (WHERE usage_date >= :p0 AND usage_date < :m0)
                FROM cost_daily WHERE {where} AND usage_date >= :p0 AND usage_date < :m1
                GROUP BY 1, 2 ORDER BY 3 DESC NULLS LAST, 1
                """
            ),
            {**params, "m0": month, "m1": tomorrow, "p0": previous},
        ).all()
        top = self._top_resources(where, params, month, tomorrow, top_resources)
        services = []
        for name, prov, current, last in rows:
            current_d, last_d = Decimal(current or 0), Decimal(last or 0)
            services.append(
                ServiceCost(
                    service_name=name,
                    provider=prov,
                    current_month=current_d,
                    last_month=last_d,
                    trend=_percent(current_d - last_d, last_d),
                    top_resources=top.get((name, prov), []),
                )
            )
        return CostsByService(currency=chosen, month_start=month, services=services)

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
            {**params, "t0": _utc(start), "t1": _utc(end), "limit": limit},
        ).all()
        top: dict[tuple[str, str], list[ResourceCost]] = {}
        for service, prov, resource, cost in rows:
            top.setdefault((service, prov), []).append(ResourceCost(resource_id=resource, cost=Decimal(cost)))
        return top

    # ---- groups, period drivers, top resources (the MCP cost tools and chat) ---------------------------
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
        _validate_range(start, end)
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
            if granularity not in _BUCKET_SQL:
                raise CostQueryError(
                    f"granularity must be one of daily, weekly, monthly (got {granularity!r})"
                )
            series_rows = self._connection.execute(
                text(
                    f"SELECT {_BUCKET_SQL[granularity]}, sum(billed_cost) FROM cost_daily WHERE {where} "
                    "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1 ORDER BY 1"
                ),
                params,
            ).all()
            series = self._fill_series(series_rows, start, end, granularity)
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
        _validate_range(start, end)
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
        for key in set(now) | set(before):
            cur, prev = now.get(key, Decimal(0)), before.get(key, Decimal(0))
            drivers.append(
                Driver(
                    key=key,
                    current=cur,
                    previous=prev,
                    change=cur - prev,
                    change_percent=_percent(cur - prev, prev),
                    share_of_change_percent=_percent(cur - prev, change),
                )
            )
        drivers.sort(key=lambda d: (-abs(d.change), d.key))
        return PeriodDrivers(
            currency=chosen,
            current_total=current,
            previous_total=previous,
            change=change,
            change_percent=_percent(change, previous),
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
        _validate_range(start, end)
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
        params |= {"t0": _utc(start), "t1": _utc(end)}
        count = self._connection.execute(text(f"SELECT count(*) FROM ({grouped}) g"), params).scalar()
        rows = self._connection.execute(
            text(f"{grouped} ORDER BY 7 DESC, 1 OFFSET :offset LIMIT :limit"),
            {**params, "offset": offset, "limit": limit},
        ).all()
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
                )
                for r in rows
            ],
        )
