"""ARM and Graph routes of the fake: RBAC-checked, paged, stateful.

Every ARM request is mapped to the RBAC action it needs (``Microsoft.Compute/virtualMachines/deallocate/action``
…) and refused with ``403 AuthorizationFailed`` naming that action when the caller's role lacks it.
"""

from __future__ import annotations

from cloudoptima_evals.fakes.azure.arm.metrics import VM_METRICS
from cloudoptima_evals.fakes.azure.arm.rbac import required_action
from cloudoptima_evals.fakes.azure.arm.routes import ArmRoutes

__all__ = ["VM_METRICS", "ArmRoutes", "required_action"]
