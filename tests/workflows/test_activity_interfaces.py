"""Each activity interface (what workflows reference) and its implementation (what workers register) agree:
same activity names, same argument and result types, nothing declared left unimplemented, nothing
implemented left undeclared. A workflow calling a declared activity therefore reaches the implementation
under that name and reads its result as the declared type."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import activity

from cloudoptima_workflows.allocation.activities import AllocationActivities
from cloudoptima_workflows.allocation.interface import AllocationActivityInterface
from cloudoptima_workflows.analysis.activities import AnalysisActivities
from cloudoptima_workflows.analysis.interface import AnalysisActivityInterface
from cloudoptima_workflows.collection.activities import CollectionActivities
from cloudoptima_workflows.collection.interface import CollectionActivityInterface
from cloudoptima_workflows.exports.activities import ExportActivities
from cloudoptima_workflows.exports.interface import ExportActivityInterface
from cloudoptima_workflows.maintenance.activities import MaintenanceActivities
from cloudoptima_workflows.maintenance.interface import MaintenanceActivityInterface
from cloudoptima_workflows.notifications.activities import NotificationActivities
from cloudoptima_workflows.notifications.interface import NotificationActivityInterface
from cloudoptima_workflows.policies.activities import PolicyActivities
from cloudoptima_workflows.policies.interface import PolicyActivityInterface
from cloudoptima_workflows.prices.activities import PriceActivities
from cloudoptima_workflows.prices.interface import PriceActivityInterface
from cloudoptima_workflows.remediation.activities import RemediationActivities
from cloudoptima_workflows.remediation.interface import RemediationActivityInterface
from cloudoptima_workflows.remediation.progress import FollowedRemediationActivities
from cloudoptima_workflows.reports.scheduled_activities import ScheduledReportActivities
from cloudoptima_workflows.reports.scheduled_interface import ScheduledReportActivityInterface
from cloudoptima_workflows.tickets.activities import TicketActivities
from cloudoptima_workflows.tickets.interface import TicketActivityInterface

PAIRS: list[tuple[type, type]] = [
    (AllocationActivityInterface, AllocationActivities),
    (AnalysisActivityInterface, AnalysisActivities),
    (CollectionActivityInterface, CollectionActivities),
    (ExportActivityInterface, ExportActivities),
    (MaintenanceActivityInterface, MaintenanceActivities),
    (NotificationActivityInterface, NotificationActivities),
    (PolicyActivityInterface, PolicyActivities),
    (PriceActivityInterface, PriceActivities),
    (RemediationActivityInterface, RemediationActivities),
    (RemediationActivityInterface, FollowedRemediationActivities),
    (ScheduledReportActivityInterface, ScheduledReportActivities),
    (TicketActivityInterface, TicketActivities),
]


def _activities(cls: type) -> dict[str, Callable[..., Any]]:
    """``{activity name: function}`` of every ``@activity.defn`` method ``cls`` defines or inherits."""
    found: dict[str, Callable[..., Any]] = {}
    for _, member in inspect.getmembers(cls, inspect.isfunction):
        definition = activity._Definition.from_callable(member)
        if definition is not None and definition.name is not None:
            found[definition.name] = member
    return found


@pytest.mark.parametrize(("interface", "implementation"), PAIRS, ids=lambda c: c.__name__)
def test_the_implementation_registers_exactly_the_declared_activities(
    interface: type, implementation: type
) -> None:
    assert issubclass(implementation, interface)
    assert not inspect.isabstract(implementation), f"{implementation.__name__} leaves an activity abstract"
    declared, implemented = _activities(interface), _activities(implementation)
    assert sorted(implemented) == sorted(declared)
    for name, declaration in declared.items():
        function = implemented[name]
        assert function is not declaration, f"{name} is declared but not implemented"
        assert function.__name__ == declaration.__name__, name
        assert typing.get_type_hints(function) == typing.get_type_hints(declaration), name
