"""What every cost question shares: the organisation's connection and rollup tag keys, the filters (provider,
account, currency), the one-currency rule, the dimensions a question can group by (rollup or raw rows), and
zero-filled time series."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Self

from sqlalchemy import Connection, text

from cloudoptima.domain.costs import BASE_DIMENSIONS, MAX_RANGE_DAYS, CostQueryError, Granularity, TimePoint
from cloudoptima.services.ingestion import rollup_tag_keys
from cloudoptima.storage.cost_loader import DEFAULT_ROLLUP_TAG_KEYS
from cloudoptima.storage.partitions import next_month

DIMENSION_SQL = {
    "service": "COALESCE(service_name, '(none)')",
    "region": "COALESCE(region_id, '(none)')",
    "account": "COALESCE(sub_account_id, billing_account_id, '(none)')",
    "provider": "provider",
    "category": "COALESCE(service_category, '(none)')",
    "charge_category": "COALESCE(charge_category, '(none)')",
}
BUCKET_SQL = {
    "daily": "usage_date",
    "weekly": "date_trunc('week', usage_date)::date",
    "monthly": "date_trunc('month', usage_date)::date",
}
_CENT = Decimal("0.01")


def utc_start(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to the cent (None when ``whole`` is 0)."""
    if whole == 0:
        return None
    return (part / whole * 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def validate_range(start: date, end: date) -> None:
    """:class:`CostQueryError` unless ``[start, end)`` is non-empty and at most ``MAX_RANGE_DAYS`` long."""
    if end <= start:
        raise CostQueryError(f"end_date {end} must be after start_date {start} (end is exclusive)")
    if (end - start).days > MAX_RANGE_DAYS:
        raise CostQueryError(
            f"date range of {(end - start).days} days exceeds the maximum of {MAX_RANGE_DAYS}"
        )


class CostQueries:
    """The shared part of the cost questions of one organisation over one connection (the caller scopes and
    closes it)."""

    def __init__(
        self, connection: Connection, organization_id: uuid.UUID, tag_keys: tuple[str, ...] | None = None
    ):
        self._connection = connection
        self._org = organization_id
        self._tag_keys = tag_keys or DEFAULT_ROLLUP_TAG_KEYS

    @classmethod
    def for_organisation(cls, connection: Connection, organization_id: uuid.UUID) -> Self:
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

    def account_names(self, identifiers: Iterable[str]) -> dict[str, str]:
        """The organisation's connected (or sandbox) cloud accounts' names by provider account id, for the
        ids given that have a named ``cloud_accounts`` row (the others are left out)."""
        wanted = sorted({i for i in identifiers if i})
        if not wanted:
            return {}
        rows = self._connection.execute(
            text(
                "SELECT account_identifier, account_name FROM cloud_accounts WHERE organization_id = :org "
                "AND account_identifier = ANY(:ids) AND account_name IS NOT NULL ORDER BY provider"
            ),
            {"org": self._org, "ids": wanted},
        ).all()
        names: dict[str, str] = {}
        for identifier, name in rows:
            names.setdefault(str(identifier), str(name))
        return names

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
        # Chosen by the caller: no need to look (the DISTINCT scan costs ~0.3 s at 1M rollup rows).
        if currency:
            return currency.upper()
        found = self.currencies(start, end, provider)
        if len(found) > 1:
            raise CostQueryError(
                f"costs in this period are in several currencies ({', '.join(found)}); pass currency= to choose one"
            )
        return found[0] if found else "USD"

    def _dimension(self, group_by: str) -> tuple[str, str, str, dict[str, Any]]:
        if group_by in DIMENSION_SQL:
            return DIMENSION_SQL[group_by], "cost_daily", "rollup", {}
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
