"""Database rules: idle managed databases (stop, then snapshot and delete) and oversized ones (next smaller class).

Contract (thresholds in ``profiles``):
- Both rules judge running database instances that no earlier finding claimed and no exclusion tag protects
  (``RuleContext.running``), and only on metrics with ≥ the profile's ``min_days`` of hourly samples, so a
  database created recently is never judged (it has too few samples).
- ``idle_databases``: ``connections`` and ``cpu_percent`` observed; every hourly connection peak ≤ the
  profile's ``max_connections`` (0: nobody connected) and the CPU statistic within the profile → ``stop``
  (for Azure SQL databases, which cannot be stopped, no provider action: export and delete by hand).
  Saving = what the instance was billed over the last 30 days where collected, else the class's monthly
  list price, else the resource's own reported cost, else unknown (listed with saving 0, "price unknown")
  (``build.whole_saving``); ``evidence.price_source`` says which. Storage keeps billing while stopped; the
  manual steps say how to make the saving last (final snapshot, delete).
- ``rightsize_databases``: clients connect (some connection peak > 0), the catalogue knows a smaller class
  of the family and both prices, and CPU (statistic and observed peak) projected onto the smaller class fit
  the profile; memory, when observed, must fit too, else the finding states memory was not observed (lower
  confidence) → ``resize {"size": smaller}``, medium risk. Saving = price difference.
"""

from __future__ import annotations

from decimal import Decimal

from cloudoptima.analytics.recommendations.build import (
    PRICE_UNKNOWN,
    Finding,
    action,
    list_source,
    whole_saving,
)
from cloudoptima.analytics.recommendations.context import MetricSummary, RuleContext, data_confidence
from cloudoptima.domain.inventory import DatabaseAttributes, MetricName, Resource, ResourceKind
from cloudoptima.domain.prices import PriceKind
from cloudoptima.domain.recommendations import (
    Category,
    ImpactAnalysis,
    InstanceSize,
    RecommendationAction,
    ResourceChange,
    RiskLevel,
)

CONNECTIONS, CPU, MEMORY = (
    MetricName.CONNECTIONS.value,
    MetricName.CPU_PERCENT.value,
    MetricName.MEMORY_PERCENT.value,
)
_UNSTOPPABLE = ("/microsoft.sql/servers/",)
"""Resource-id fragments (lower case) of database offerings that have no stop: Azure SQL Database."""


def _observed(
    ctx: RuleContext, min_days: int
) -> list[tuple[Resource, DatabaseAttributes, MetricSummary, MetricSummary]]:
    """Running databases with ≥ ``min_days`` of connection and CPU samples, with those two summaries."""
    out = []
    for db in ctx.running(ResourceKind.DATABASE):
        rid, attributes = db.resource_id, db.attributes
        connections, cpu = ctx.metric(rid, CONNECTIONS), ctx.metric(rid, CPU)
        if (
            isinstance(attributes, DatabaseAttributes)
            and connections is not None
            and cpu is not None
            and ctx.enough(rid, (CONNECTIONS, CPU), min_days)
        ):
            out.append((db, attributes, connections, cpu))
    return out


def _stoppable(db: Resource) -> bool:
    return not any(fragment in db.resource_id.lower() for fragment in _UNSTOPPABLE)


def _idle_actions(db: Resource) -> tuple[list[RecommendationAction], list[str]]:
    if not _stoppable(db):
        return [], [
            f"Export {db.name} (or confirm a long-term backup retention covers it), then delete the database: "
            "Azure SQL databases cannot be stopped.",
        ]
    return [action("stop", db, f"Stop {db.name}")], [
        f"Take a final snapshot of {db.name} and delete it to keep the saving: a stopped RDS or Azure "
        "flexible server starts again by itself after 7 days, and storage bills while stopped.",
    ]


def idle_databases(ctx: RuleContext) -> list[Finding]:
    """Running databases no client connected to → stop (see module contract)."""
    profile = ctx.settings.idle_database
    findings = []
    for db, attributes, connections, cpu in _observed(ctx, profile.min_days):
        rid = db.resource_id
        if connections["max"] > profile.max_connections:
            continue
        if profile.cpu_stat is not None and cpu[profile.cpu_stat] > profile.cpu_max_percent:
            continue
        monthly, price_source = whole_saving(
            ctx,
            db,
            ctx.prices.database_monthly(db.provider, db.region, attributes.instance_class),
            PriceKind.DATABASE,
            attributes.instance_class,
        )
        priced = price_source != PRICE_UNKNOWN
        days = min(ctx.sample_days(rid, CONNECTIONS), ctx.sample_days(rid, CPU))
        cpu_text = f"CPU p95 {cpu['p95']:.1f} %"
        price_note = (
            ""
            if priced
            else f" Price unknown for {attributes.instance_class} in {db.region}: the saving is not estimated."
        )
        actions, steps = _idle_actions(db)
        findings.append(
            Finding(
                rule_id="idle_database",
                profile=profile.name,
                title=f"Stop idle database {db.name}",
                description=(
                    f"No client connected to {db.name} ({attributes.engine}, {attributes.instance_class}) in "
                    f"{days:.0f} days (peak connections {connections['max']:.0f}, {cpu_text}). Stopping it ends "
                    f"the instance charge; a final snapshot and deletion make it last. {profile.source}."
                    f"{price_note}"
                ),
                category=Category.DATABASE,
                risk=RiskLevel.LOW,
                confidence=data_confidence(0.9, days),
                savings_monthly=monthly,
                resources=[(db, monthly)],
                actions=actions,
                manual_steps=steps,
                impact=ImpactAnalysis(
                    performance_impact="none: no client uses the database",
                    availability_impact="a client that connects rarely (monthly, quarterly) finds it stopped",
                    security_impact="none; the data stays in its storage or snapshot",
                ),
                changes=[
                    ResourceChange(
                        resource_id=rid,
                        change_type="stop" if actions else "delete",
                        before={"state": "running", "instance_class": attributes.instance_class},
                        after={"state": "stopped" if actions else "deleted"},
                    )
                ],
                risks=[
                    "a client that connects less than once per observed window (quarterly reports, DR drills) "
                    "would find it gone",
                    "storage and backups keep billing until the instance is deleted",
                ],
                rollback="start the instance again, or restore it from its final snapshot",
                evidence={
                    "connections": dict(connections),
                    "cpu": dict(cpu),
                    "days": round(days, 1),
                    "price_source": price_source,
                },
                price_known=priced,
            )
        )
    return findings


def _memory_fit(
    ctx: RuleContext, rid: str, ratio: float, limit: float, stat: str, min_days: int
) -> tuple[bool, float | None]:
    """(fits, projected memory) on the smaller class; projected ``None`` when memory was not observed."""
    if not ctx.enough(rid, (MEMORY,), min_days):
        return ctx.metric(rid, MEMORY) is None, None  # some memory samples but too few: do not judge
    memory = ctx.metric(rid, MEMORY)
    assert memory is not None
    projected = memory[stat] * ratio
    return projected <= limit, projected


def _resize_finding(
    db: Resource,
    attributes: DatabaseAttributes,
    target: InstanceSize,
    prices: tuple[Decimal, Decimal],
    cpu: MetricSummary,
    connections: MetricSummary,
    projected: tuple[float, float, float | None],
    ctx: RuleContext,
) -> Finding:
    profile = ctx.settings.database_rightsizing
    now, after = prices
    cpu_projected, peak_projected, memory_projected = projected
    days = ctx.sample_days(db.resource_id, CPU)
    margin = (profile.cpu_limit_percent - cpu_projected) / profile.cpu_limit_percent
    memory_text = (
        f"memory {profile.memory_stat} {memory_projected:.0f} % (limit {profile.memory_limit_percent:.0f} %)"
        if memory_projected is not None
        else f"memory was not observed (no memory percentage metric), so check that {target.memory_gib} GiB "
        "holds the working set"
    )
    base = 0.65 if memory_projected is not None else 0.5
    return Finding(
        rule_id="rightsize_database",
        profile=profile.name,
        title=f"Resize database {db.name} from {attributes.instance_class} to {target.name}",
        description=(
            f"On {target.name} ({target.vcpu} vCPU, {target.memory_gib} GiB) {db.name} would run at CPU "
            f"{profile.cpu_stat} {cpu_projected:.0f} % (limit {profile.cpu_limit_percent:.0f} %), peak "
            f"{peak_projected:.0f} % (limit {profile.peak_limit_percent:.0f} %), and {memory_text}; clients "
            f"connected (peak {connections['max']:.0f} connections) over {days:.0f} days. {profile.source}."
        ),
        category=Category.DATABASE,
        risk=RiskLevel.MEDIUM,
        confidence=data_confidence(base + 0.25 * min(1.0, max(0.0, margin)), days),
        savings_monthly=now - after,
        resources=[(db, now)],
        actions=[action("resize", db, f"Resize {db.name} to {target.name}", size=target.name)],
        manual_steps=[f"Apply the class change to {db.name} in its maintenance window"],
        impact=ImpactAnalysis(
            performance_impact=(
                f"less headroom: projected CPU {profile.cpu_stat} {cpu_projected:.0f} %, peak {peak_projected:.0f} %"
            ),
            availability_impact="the instance restarts to change class (minutes; less with a Multi-AZ failover)",
            security_impact="none",
        ),
        changes=[
            ResourceChange(
                resource_id=db.resource_id,
                change_type="resize",
                before={"instance_class": attributes.instance_class},
                after={"instance_class": target.name},
            )
        ],
        risks=[
            "peaks outside the observed window may exceed the smaller class",
            "a smaller class has less memory for the buffer cache: query latency may rise",
            *(
                []
                if memory_projected is not None
                else [f"memory use was not observed: {target.memory_gib} GiB"]
            ),
        ],
        rollback=f"resize back to {attributes.instance_class} (one more restart)",
        evidence={
            "cpu": dict(cpu),
            "connections": dict(connections),
            "memory_observed": memory_projected is not None,
            "cpu_projected": round(cpu_projected, 2),
            "peak_projected": round(peak_projected, 2),
            "memory_projected": round(memory_projected, 2) if memory_projected is not None else None,
            "target": target.name,
            "days": round(days, 1),
            "price_source": list_source(ctx, db, PriceKind.DATABASE, attributes.instance_class),
        },
    )


def rightsize_databases(ctx: RuleContext) -> list[Finding]:
    """Used databases whose CPU fits the next smaller class → resize (see module contract)."""
    profile = ctx.settings.database_rightsizing
    findings = []
    for db, attributes, connections, cpu in _observed(ctx, profile.min_days):
        rid = db.resource_id
        if connections["max"] <= 0:
            continue  # nobody connects: the idle rule's case, never a resize
        target = ctx.prices.next_smaller_database(db.provider, attributes.instance_class)
        if target is None:
            continue
        ratio = attributes.vcpu / target.vcpu
        cpu_projected, peak_projected = cpu[profile.cpu_stat] * ratio, cpu["max"] * ratio
        if cpu_projected > profile.cpu_limit_percent or peak_projected > profile.peak_limit_percent:
            continue
        memory_ratio = float(attributes.memory_gib / target.memory_gib)
        fits, memory_projected = _memory_fit(
            ctx, rid, memory_ratio, profile.memory_limit_percent, profile.memory_stat, profile.min_days
        )
        if not fits:
            continue
        now = ctx.prices.database_monthly(db.provider, db.region, attributes.instance_class)
        after = ctx.prices.database_monthly(db.provider, db.region, target.name)
        if now is None or after is None or after >= now:
            continue
        findings.append(
            _resize_finding(
                db,
                attributes,
                target,
                (now, after),
                cpu,
                connections,
                (cpu_projected, peak_projected, memory_projected),
                ctx,
            )
        )
    return findings
