"""The optimisation score of a compute instance: utilisation fit against the rightsizing ceiling, and open
savings; and the service catalogue budgets accept without spend covers the sandbox's service names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloudoptima.analytics.optimization_score import MIN_SAMPLES, optimization_score
from cloudoptima.clouds.sandbox.providers import SERVICES
from cloudoptima.domain.service_catalog import KNOWN_SERVICES


def _metrics(cpu: float | None, memory: float | None = None, samples: int = 336) -> dict[str, object]:
    found: dict[str, object] = {}
    if cpu is not None:
        found["cpu_percent"] = {"avg": cpu / 2, "max": cpu, "p95": cpu, "p99": cpu, "samples": samples}
    if memory is not None:
        found["memory_percent"] = {
            "avg": memory,
            "max": memory,
            "p95": memory,
            "p99": memory,
            "samples": samples,
        }
    return found


@pytest.mark.parametrize(
    ("metrics", "status", "savings", "expected"),
    [
        (_metrics(8.0), "running", "0", (10, "utilisation", 10, 100)),
        (_metrics(40.0), "running", "0", (50, "utilisation", 50, 100)),
        (_metrics(10.0, memory=60.0), "running", "0", (75, "utilisation", 75, 100)),  # memory is busier
        (
            _metrics(10.0, memory=60.0, samples=MIN_SAMPLES - 1),
            "running",
            "0",
            (100, "recommendations", None, 100),
        ),
        (_metrics(120.0), "running", "0", (100, "utilisation", 100, 100)),
        (_metrics(90.0), "running", "25", (75, "utilisation", 100, 75)),
        (_metrics(4.0), "stopped", "0", (100, "recommendations", None, 100)),
        ({}, "running", "150", (0, "recommendations", None, 0)),  # savings above cost clip to 0
    ],
)
def test_score(metrics: dict[str, object], status: str, savings: str, expected: tuple[object, ...]) -> None:
    found = optimization_score(
        metrics, status=status, monthly_cost=Decimal(100), open_savings=Decimal(savings)
    )
    assert (found.score, found.basis, found.utilisation_fit, found.savings_fit) == expected


def test_free_instance_has_nothing_to_save() -> None:
    found = optimization_score({}, status="running", monthly_cost=None, open_savings=Decimal(5))
    assert (found.score, found.savings_fit) == (100, 100)


def test_catalogue_knows_every_sandbox_service() -> None:
    for provider, kinds in SERVICES.items():
        assert {label.name for label in kinds.values()} <= KNOWN_SERVICES[provider.value]
