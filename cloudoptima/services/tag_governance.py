"""Tag governance of one organisation: its tag policy, tag coverage and the resources to fix.

Contract:
- ``read_policy`` / ``write_policy``: the policy lives in ``organizations.settings["tag_policy"]`` (other
  settings untouched); the caller commits.
- ``coverage(start, end, currency)``: over the cost rows whose ``charge_period_start`` is in ``[start, end)``
  (UTC days, end exclusive), per required key: the billed spend carrying a compliant value of the key (aliases
  and case variants honoured, see ``domain.tag_policy``), its share of the total, and the same over
  resources. The resources are the live inventory (``resources``, not deleted; their current tags — what the
  tag action changes) plus the resource ids billed in the period that the inventory does not know (carrying a
  key when any of their rows in the period does). Untagged spend (rows missing at least one required key) is
  broken down by account (sub-account, else billing account) and by service. Money is exact ``Decimal``;
  percentages are rounded half-even to 2 places (100.00 when there is nothing to cover). One currency per
  answer: ``currency`` None picks the period's only currency, and several currencies without a choice raise
  :class:`TagGovernanceError` naming ``currency``.
- ``untagged_resources(key, …)``: those resources lacking ``key``, each with its billed cost in the period and
  every required key it lacks, costliest first then by id, paged (``limit``/``offset``) with the total count.
  Its tags are the inventory's, else the union of its billed tag sets in the period, a set first charged later
  overriding an earlier one (ties by JSON text).
  A required key (any spelling or alias) is checked by its rule (aliases, allowed values); any other valid
  tag key by its normalised spelling alone; an invalid key raises :class:`TagGovernanceError` naming ``key``.
- ``untagged_spend(key, …, group_by)``: the spend of rows lacking the required ``key`` per account or service.
- Speed: when the coverage rollups hold the current policy's masks (``storage.cost_loader.tag_coverage``,
  rebuilt by ``write_policy`` when the required keys change), coverage, untagged spend and the untagged
  resources of a required key are answered from them (``services.tag_coverage_rollup``); otherwise, and for a
  key outside the policy, from the cost rows (``coverage_from_rows``, the reference both answers equal).
- Every query is scoped to the organisation.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cloudoptima.domain.tag_policy import RequiredTag, TagPolicy, tag_key_problem
from cloudoptima.services import tag_coverage_rollup as rollup
from cloudoptima.storage.cost_loader.tag_coverage import full_mask, key_mask, rebuild_tag_coverage
from cloudoptima.storage.models import Organization, ResourceDocument

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


class TagGovernanceError(ValueError):
    """Bad input; ``field`` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """``part`` as a percentage of ``whole`` (2 places, half-even; 100.00 of nothing)."""
    if not whole:
        return Decimal("100.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class KeyCoverage:
    key: str
    tagged_spend: Decimal
    untagged_spend: Decimal
    spend_percent: Decimal
    tagged_resources: int
    resources: int
    resource_percent: Decimal


@dataclass(frozen=True)
class UntaggedSpend:
    name: str
    untagged_spend: Decimal


@dataclass(frozen=True)
class CoverageReport:
    start: date
    end: date
    currency: str | None
    total_spend: Decimal
    untagged_spend: Decimal
    resources: int
    keys: list[KeyCoverage]
    by_account: list[UntaggedSpend]
    by_service: list[UntaggedSpend]


@dataclass(frozen=True)
class UntaggedResource:
    resource_id: str
    resource_name: str | None
    resource_type: str | None
    provider: str | None
    region: str | None
    cloud_account_id: str | None
    in_inventory: bool
    tags: dict[str, Any]
    missing: list[str]
    cost: Decimal


@dataclass(frozen=True)
class UntaggedPage:
    key: str
    currency: str | None
    total: int
    items: list[UntaggedResource]


@dataclass(frozen=True)
class UntaggedSpendReport:
    key: str
    currency: str | None
    group_by: str
    untagged_spend: Decimal
    items: list[UntaggedSpend]


GROUP_BY = ("account", "service")


def _mask_of(policy: TagPolicy, tags_text: str) -> int:
    """The required keys (bits) a tag set given as JSON text carries; not an object: none."""
    loaded = json.loads(tags_text)
    return key_mask(policy, loaded if isinstance(loaded, dict) else None)


def _ranked(amounts: dict[str, Decimal]) -> list[UntaggedSpend]:
    """Costliest first, then by name."""
    return [
        UntaggedSpend(name, amount)
        for name, amount in sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


@dataclass(frozen=True)
class _Group:
    account: str | None
    service_name: str | None
    resource_id: str | None
    tags_text: str
    tags: dict[str, Any]
    billed: Decimal


@dataclass
class _Resource:
    resource_id: str
    name: str | None = None
    type: str | None = None
    provider: str | None = None
    region: str | None = None
    account: str | None = None
    inventory_tags: dict[str, Any] | None = None
    billed_tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Distinct tag sets of the resource's rows in the period, by their JSON text."""
    cost: Decimal = _ZERO

    def carries(self, rule: RequiredTag) -> bool:
        if self.inventory_tags is not None:
            return rule.value_in(self.inventory_tags) is not None
        return any(rule.value_in(tags) is not None for tags in self.billed_tags.values())

    def tags(self) -> dict[str, Any]:
        if self.inventory_tags is not None:
            return dict(self.inventory_tags)
        merged: dict[str, Any] = {}
        for tags in self.billed_tags.values():
            merged.update(tags)
        return merged


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end <= start:
        raise TagGovernanceError(
            "end", f"end ({end}) must be after start ({start}); periods are end-exclusive"
        )
    return (
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(end.year, end.month, end.day, tzinfo=UTC),
    )


class TagGovernance:
    """Tag governance of one organisation over one session (the caller commits)."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._session = session
        self._org = organization_id

    def _row(self, *, lock: bool = False) -> Organization:
        org = self._session.get(Organization, self._org, with_for_update=lock)
        if org is None:
            raise LookupError(f"organisation {self._org} not found")
        return org

    def read_policy(self) -> TagPolicy:
        """The organisation's tag policy (no rules when none is stored)."""
        return TagPolicy.of(self._row().settings)

    def write_policy(self, policy: TagPolicy) -> TagPolicy:
        """Store ``policy`` (replacing the previous one) and return it; when its required keys (keys, aliases,
        allowed values) differ from those the coverage rollups were computed for, rebuild them."""
        org = self._row(lock=True)
        org.settings = {**(org.settings or {}), "tag_policy": policy.model_dump(mode="json")}
        self._session.flush()
        if not rollup.is_current(self._session, self._org, policy):
            rebuild_tag_coverage(self._session.connection(), self._org, policy)
        return policy

    def _currency(self, t0: datetime, t1: datetime, currency: str | None) -> str | None:
        found = [
            str(c)
            for c in self._session.execute(
                text(
                    "SELECT DISTINCT billing_currency FROM cost_data WHERE organization_id = :org "
                    "AND charge_period_start >= :t0 AND charge_period_start < :t1 ORDER BY 1"
                ),
                {"org": self._org, "t0": t0, "t1": t1},
            ).scalars()
        ]
        if currency is not None:
            return currency.upper()
        if len(found) > 1:
            raise TagGovernanceError(
                "currency", f"the period is billed in several currencies ({', '.join(found)}); choose one"
            )
        return found[0] if found else None

    def _billed_groups(self, t0: datetime, t1: datetime, currency: str | None) -> list[_Group]:
        """The period's billed cost per account, service, resource and tag set; each distinct tag set is
        decoded once (``tags_text`` is its identity: rows with one tag set share one dict)."""
        parsed: dict[str, dict[str, Any]] = {}
        groups = []
        for row in self._session.execute(
            text(
                """
                SELECT COALESCE(sub_account_id, billing_account_id) AS account, service_name,
                    resource_id, COALESCE(tags, '{}'::jsonb)::text AS tags_text, sum(billed_cost) AS billed
                FROM cost_data
                WHERE organization_id = :org AND charge_period_start >= :t0 AND charge_period_start < :t1
                    AND billing_currency = :currency
                GROUP BY 1, 2, 3, 4
                ORDER BY min(charge_period_start), 4
                """
            ),
            {"org": self._org, "t0": t0, "t1": t1, "currency": currency or ""},
        ):
            tags = parsed.get(row.tags_text)
            if tags is None:
                loaded = json.loads(row.tags_text)
                tags = parsed[row.tags_text] = loaded if isinstance(loaded, dict) else {}
            groups.append(
                _Group(row.account, row.service_name, row.resource_id, row.tags_text, tags, row.billed)
            )
        return groups

    def _resources(self, groups: list[Any]) -> dict[str, _Resource]:
        found: dict[str, _Resource] = {}
        docs = self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org, ResourceDocument.status != "deleted"
            )
        ).all()
        for doc in docs:
            found.setdefault(
                doc.resource_id,
                _Resource(
                    resource_id=doc.resource_id,
                    name=doc.resource_name,
                    type=doc.resource_type,
                    provider=doc.provider,
                    region=doc.region,
                    account=str(doc.cloud_account_id) if doc.cloud_account_id else None,
                    inventory_tags=dict(doc.tags or {}),
                ),
            )
        for group in groups:
            if not group.resource_id:
                continue
            res = found.setdefault(group.resource_id, _Resource(resource_id=group.resource_id))
            res.cost += Decimal(group.billed)
            if res.inventory_tags is None and group.tags_text not in res.billed_tags:
                res.billed_tags[group.tags_text] = group.tags
        return found

    def coverage_from_rows(self, start: date, end: date, currency: str | None = None) -> CoverageReport:
        """Tag coverage of the period read from the cost rows (see module contract)."""
        t0, t1 = _bounds(start, end)
        chosen = self._currency(t0, t1, currency)
        policy = self.read_policy()
        groups = self._billed_groups(t0, t1, chosen)
        resources = self._resources(groups)
        total = sum((Decimal(g.billed) for g in groups), _ZERO)
        tagged: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        untagged_total = _ZERO
        by_account: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        by_service: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        carried: dict[str, tuple[bool, ...]] = {}
        for group in groups:
            billed = Decimal(group.billed)
            flags = carried.get(group.tags_text)
            if flags is None:
                flags = carried[group.tags_text] = tuple(
                    r.value_in(group.tags) is not None for r in policy.required
                )
            for rule, carries in zip(policy.required, flags, strict=True):
                if carries:
                    tagged[rule.key] += billed
            if not all(flags):
                untagged_total += billed
                by_account[group.account or "(none)"] += billed
                by_service[group.service_name or "(none)"] += billed
        keys = []
        for rule in policy.required:
            carrying = sum(1 for r in resources.values() if r.carries(rule))
            keys.append(
                KeyCoverage(
                    key=rule.key,
                    tagged_spend=tagged[rule.key],
                    untagged_spend=total - tagged[rule.key],
                    spend_percent=percent(tagged[rule.key], total),
                    tagged_resources=carrying,
                    resources=len(resources),
                    resource_percent=percent(carrying, len(resources)),
                )
            )

        def ranked(amounts: dict[str, Decimal]) -> list[UntaggedSpend]:
            return [
                UntaggedSpend(name, amount)
                for name, amount in sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
            ]

        return CoverageReport(
            start=start,
            end=end,
            currency=chosen,
            total_spend=total,
            untagged_spend=untagged_total,
            resources=len(resources),
            keys=keys,
            by_account=ranked(by_account),
            by_service=ranked(by_service),
        )

    def untagged_resources(
        self,
        key: str,
        start: date,
        end: date,
        *,
        currency: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> UntaggedPage:
        """The resources lacking the required ``key`` (see module contract)."""
        policy = self.read_policy()
        rule = policy.rule(key)
        if rule is None:
            problem = tag_key_problem(key)
            if problem is not None:
                raise TagGovernanceError("key", problem)
            rule = RequiredTag(key=key)
        t0, t1 = _bounds(start, end)
        if rule in policy.required and rollup.is_current(self._session, self._org, policy):
            return self._untagged_from_rollup(policy, rule, start, end, currency, limit, offset)
        chosen = self._currency(t0, t1, currency)
        resources = self._resources(self._billed_groups(t0, t1, chosen))
        lacking = sorted(
            (r for r in resources.values() if not r.carries(rule)), key=lambda r: (-r.cost, r.resource_id)
        )
        items = [
            UntaggedResource(
                resource_id=r.resource_id,
                resource_name=r.name,
                resource_type=r.type,
                provider=r.provider,
                region=r.region,
                cloud_account_id=r.account,
                in_inventory=r.inventory_tags is not None,
                tags=r.tags(),
                missing=policy.missing(r.tags()),
                cost=r.cost,
            )
            for r in lacking[offset : offset + limit]
        ]
        return UntaggedPage(key=rule.key, currency=chosen, total=len(lacking), items=items)

    def _rollup_currency(self, start: date, end: date, currency: str | None) -> str | None:
        """``_currency`` answered from the coverage rollup (the same currencies as the cost rows)."""
        if currency is not None:
            return currency.upper()
        found = rollup.currencies(self._session, self._org, start, end)
        if len(found) > 1:
            raise TagGovernanceError(
                "currency", f"the period is billed in several currencies ({', '.join(found)}); choose one"
            )
        return found[0] if found else None

    def coverage(self, start: date, end: date, currency: str | None = None) -> CoverageReport:
        """Tag coverage of the period (see module contract): from the coverage rollups when they hold the
        current policy's masks, else from the cost rows; the answers are equal."""
        _bounds(start, end)
        policy = self.read_policy()
        if not rollup.is_current(self._session, self._org, policy):
            return self.coverage_from_rows(start, end, currency)
        chosen = self._rollup_currency(start, end, currency)
        complete = full_mask(policy)
        total = untagged_total = _ZERO
        tagged: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        by_account: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        by_service: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        for group in rollup.spend_groups(self._session, self._org, start, end, chosen or ""):
            total += group.billed
            for index, rule in enumerate(policy.required):
                if group.mask >> index & 1:
                    tagged[rule.key] += group.billed
            if group.mask & complete != complete:
                untagged_total += group.billed
                by_account[group.account or "(none)"] += group.billed
                by_service[group.service_name or "(none)"] += group.billed
        # The inventory by tag set (its masks computed once a set) and the billed resources it does not know.
        counted = [
            (_mask_of(policy, tags_text), count)
            for tags_text, count in rollup.inventory_tag_sets(self._session, self._org)
        ]
        counted += rollup.billed_outside_inventory(self._session, self._org, start, end, chosen or "")
        resources = sum(count for _, count in counted)
        keys = []
        for index, rule in enumerate(policy.required):
            carrying = sum(count for mask, count in counted if mask >> index & 1)
            keys.append(
                KeyCoverage(
                    key=rule.key,
                    tagged_spend=tagged[rule.key],
                    untagged_spend=total - tagged[rule.key],
                    spend_percent=percent(tagged[rule.key], total),
                    tagged_resources=carrying,
                    resources=resources,
                    resource_percent=percent(carrying, resources),
                )
            )
        return CoverageReport(
            start=start,
            end=end,
            currency=chosen,
            total_spend=total,
            untagged_spend=untagged_total,
            resources=resources,
            keys=keys,
            by_account=_ranked(by_account),
            by_service=_ranked(by_service),
        )

    def untagged_spend(
        self, key: str, start: date, end: date, *, group_by: str, currency: str | None = None
    ) -> UntaggedSpendReport:
        """The period's spend lacking the required ``key`` (any spelling or alias) per account (sub account,
        else billing account) or service, costliest first; "(none)" names rows without one. A key outside
        the policy raises :class:`TagGovernanceError` naming ``key``; another ``group_by`` names ``group_by``."""
        if group_by not in GROUP_BY:
            raise TagGovernanceError("group_by", f"group_by must be one of {', '.join(GROUP_BY)}")
        policy = self.read_policy()
        rule = policy.rule(key)
        if rule is None:
            problem = tag_key_problem(key)
            raise TagGovernanceError(
                "key",
                problem or f"{key!r} is not a required key of the tag policy; add it to measure its spend",
            )
        index = policy.required.index(rule)
        t0, t1 = _bounds(start, end)
        amounts: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        if rollup.is_current(self._session, self._org, policy):
            chosen = self._rollup_currency(start, end, currency)
            for name, amount in rollup.untagged_spend(
                self._session, self._org, start, end, chosen or "", index, group_by
            ):
                amounts[name or "(none)"] += amount
        else:
            chosen = self._currency(t0, t1, currency)
            for group in self._billed_groups(t0, t1, chosen):
                if rule.value_in(group.tags) is None:
                    name = group.account if group_by == "account" else group.service_name
                    amounts[name or "(none)"] += Decimal(group.billed)
        return UntaggedSpendReport(
            key=rule.key,
            currency=chosen,
            group_by=group_by,
            untagged_spend=sum(amounts.values(), _ZERO),
            items=_ranked(amounts),
        )

    def _untagged_from_rollup(
        self,
        policy: TagPolicy,
        rule: RequiredTag,
        start: date,
        end: date,
        currency: str | None,
        limit: int,
        offset: int,
    ) -> UntaggedPage:
        """``untagged_resources`` of a required key answered from the coverage rollups."""
        chosen = self._rollup_currency(start, end, currency)
        index = policy.required.index(rule)
        lacking_sets = [
            tags_text
            for tags_text, _ in rollup.inventory_tag_sets(self._session, self._org)
            if not _mask_of(policy, tags_text) >> index & 1
        ]
        page, total = rollup.lacking_page(
            self._session, self._org, start, end, chosen or "", index, lacking_sets, limit, offset
        )
        t0, t1 = _bounds(start, end)
        tag_sets = rollup.billed_tags(
            self._session,
            self._org,
            t0,
            t1,
            chosen or "",
            [r.resource_id for r in page if not r.in_inventory],
        )
        docs = rollup.inventory(self._session, self._org, [r.resource_id for r in page if r.in_inventory])
        items = []
        for row in page:
            rid, cost = row.resource_id, row.cost
            doc = docs.get(rid)
            if doc is not None:
                tags = dict(doc.tags)
            else:
                tags = {}
                for tags_text in tag_sets.get(rid, []):
                    loaded = json.loads(tags_text)
                    tags.update(loaded if isinstance(loaded, dict) else {})
            items.append(
                UntaggedResource(
                    resource_id=rid,
                    resource_name=doc.name if doc else None,
                    resource_type=doc.type if doc else None,
                    provider=doc.provider if doc else None,
                    region=doc.region if doc else None,
                    cloud_account_id=doc.account if doc else None,
                    in_inventory=doc is not None,
                    tags=tags,
                    missing=policy.missing(tags),
                    cost=cost,
                )
            )
        return UntaggedPage(key=rule.key, currency=chosen, total=total, items=items)
