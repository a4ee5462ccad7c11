"""Threshold triggers: a metric over the ``window_days`` whole UTC days before ``today`` compared with the
policy's ``operator`` and ``value`` (daily billed cost per currency, or each resource's daily mean usage),
fired once per subject while its window overlaps an earlier firing's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cloudoptima.domain.policy_fields import COST_METRICS
from cloudoptima.services.policy_triggers.model import Firing
from cloudoptima.storage.models import PolicyFiring

Insert = Callable[[dict[str, Any]], list[Firing]]
"""Records one firing (``policy_firings`` values) and returns it when it is new."""


def _compare(observed: Decimal, op: str, limit: Decimal) -> bool:
    return bool(
        {"gt": observed > limit, "gte": observed >= limit, "lt": observed < limit, "lte": observed <= limit}[
            op
        ]
    )


class ThresholdTriggers:
    """The threshold triggers of one organisation over one session; ``insert`` records a firing."""

    def __init__(self, session: Session, organization_id: uuid.UUID, insert: Insert) -> None:
        self._session = session
        self._org = organization_id
        self._insert = insert

    def _cooling(self, policy_id: uuid.UUID, window_start: date) -> set[str]:
        """Subjects (currencies, resource ids) of this policy's firings whose window overlaps this one."""
        rows = self._session.execute(
            select(PolicyFiring.event_id, PolicyFiring.resource_ids).where(
                PolicyFiring.organization_id == self._org,
                PolicyFiring.policy_id == policy_id,
                PolicyFiring.trigger_type == "threshold",
                PolicyFiring.window_end > window_start,
            )
        ).all()
        subjects: set[str] = set()
        for subject, resource_ids in rows:
            subjects.update(resource_ids or [])
            if subject:
                subjects.add(str(subject))
        return subjects

    def fired(self, policy_id: uuid.UUID, config: Mapping[str, Any], today: date) -> list[Firing]:
        """The new firings of one policy's threshold ``config`` as of ``today`` (see the package contract)."""
        metric = str(config["metric"])
        days = int(config.get("window_days", 1))
        start, end = today - timedelta(days=days), today
        op = str(config.get("operator", "gte"))
        limit = Decimal(str(config["value"]))
        average = config.get("aggregation", "every_day") == "average"
        filters = {str(k): v for k, v in dict(config.get("filters") or {}).items()}
        cooling = self._cooling(policy_id, start)
        base = {
            "policy_id": policy_id,
            "trigger_type": "threshold",
            "metric": metric,
            "threshold": limit,
            "window_start": start,
            "window_end": end,
        }

        def judged(values: list[Decimal]) -> Decimal | None:
            """The value that decides (the mean, or the day least past the limit), when it crosses."""
            if average:
                mean = sum(values, Decimal(0)) / len(values)
                return mean if _compare(mean, op, limit) else None
            if not all(_compare(v, op, limit) for v in values):
                return None
            return min(values) if op in ("gt", "gte") else max(values)

        if metric in COST_METRICS:
            fired: list[Firing] = []
            for currency, by_day in sorted(self._daily_costs(start, end, filters).items()):
                values = [by_day.get(start + timedelta(days=i), Decimal(0)) for i in range(days)]
                observed = judged(values)
                if observed is None or currency in cooling:
                    continue
                fired += self._insert(
                    {
                        **base,
                        "fire_key": f"threshold:{currency}:{start.isoformat()}..{end.isoformat()}",
                        "event_id": currency,
                        "observed": observed,
                        "details": {"daily": [str(v) for v in values], "currency": currency},
                    }
                )
            return fired
        crossed: dict[str, Decimal] = {}
        for resource_id, by_day in sorted(self._daily_usage(metric, start, end, filters).items()):
            if len(by_day) < days or resource_id in cooling:
                continue
            values = [by_day[start + timedelta(days=i)] for i in range(days)]
            observed = judged(values)
            if observed is not None:
                crossed[resource_id] = observed
        if not crossed:
            return []
        extreme = max(crossed.values()) if op in ("gt", "gte") else min(crossed.values())
        return self._insert(
            {
                **base,
                "fire_key": f"threshold:resources:{start.isoformat()}..{end.isoformat()}",
                "event_id": None,
                "observed": extreme,
                "resource_ids": sorted(crossed),
                "details": {"observed": {rid: str(v) for rid, v in crossed.items()}},
            }
        )

    def _daily_costs(
        self, start: date, end: date, filters: Mapping[str, Any]
    ) -> dict[str, dict[date, Decimal]]:
        columns = {
            "service_name": "service_name",
            "region": "region_id",
            "provider": "provider",
            "sub_account_id": "sub_account_id",
            "cloud_account_id": "CAST(cloud_account_id AS text)",
            "currency": "billing_currency",
        }
        where, params = [], {"org": self._org, "d0": start, "d1": end}
        for i, (key, value) in enumerate(sorted(filters.items())):
            where.append(f"AND {columns[key]} = :f{i} ")
            params[f"f{i}"] = str(value)
        rows = self._session.execute(
            text(
                "SELECT billing_currency, usage_date, sum(billed_cost) FROM cost_daily "
                "WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1 "
                f"{''.join(where)}GROUP BY 1, 2"
            ),
            params,
        ).all()
        found: dict[str, dict[date, Decimal]] = {}
        for currency, day, total in rows:
            found.setdefault(str(currency), {})[day] = Decimal(total)
        return found

    def _daily_usage(
        self, metric: str, start: date, end: date, filters: Mapping[str, Any]
    ) -> dict[str, dict[date, Decimal]]:
        columns = {
            "resource_id": "r.resource_id",
            "resource_type": "r.resource_type",
            "provider": "r.provider",
            "region": "r.region",
            "cloud_account_id": "CAST(r.cloud_account_id AS text)",
        }
        where, params = [], {"org": self._org, "metric": metric, "d0": start, "d1": end}
        for i, (key, value) in enumerate(sorted(filters.items())):
            where.append(f"AND {columns[key]} = :f{i} ")
            params[f"f{i}"] = str(value)
        rows = self._session.execute(
            text(
                "SELECT d.resource_id, d.day, avg(u.v) FROM utilisation_daily d "
                "JOIN resources r ON r.organization_id = d.organization_id "
                "AND r.cloud_account_id = d.cloud_account_id AND r.resource_id = d.resource_id "
                "CROSS JOIN LATERAL unnest(d.hours) AS u(v) "
                "WHERE d.organization_id = :org AND d.metric = :metric AND d.day >= :d0 AND d.day < :d1 "
                f"AND r.status <> 'deleted' AND u.v IS NOT NULL {''.join(where)}GROUP BY 1, 2"
            ),
            params,
        ).all()
        found: dict[str, dict[date, Decimal]] = {}
        for resource_id, day, mean in rows:
            found.setdefault(str(resource_id), {})[day] = Decimal(str(round(float(mean), 4)))
        return found
