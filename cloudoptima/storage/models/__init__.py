"""All tables. Import this package to register every model on ``Base.metadata``."""

from cloudoptima.storage.models.accounts import CloudAccount
from cloudoptima.storage.models.allocation import (
    AllocationDimensionRow,
    AllocationRuleSetRow,
    CostAllocatedDaily,
    CostAllocatedTotal,
)
from cloudoptima.storage.models.collection import (
    CostForecast,
    IamPrincipal,
    UtilisationCursor,
    UtilisationDay,
)
from cloudoptima.storage.models.contract_commitments import ContractCommitmentRow
from cloudoptima.storage.models.costs import CostRow
from cloudoptima.storage.models.documents import AuditLog, ResourceDocument
from cloudoptima.storage.models.executions import ExecutionEvent
from cloudoptima.storage.models.identity import ApiKey, Organization, RefreshToken, RevokedToken, User
from cloudoptima.storage.models.ingest import IngestRun, QuarantinedRow
from cloudoptima.storage.models.notification_delivery import NotificationChannelRow, NotificationDeliveryRow
from cloudoptima.storage.models.notification_digests import NotificationDigestRow
from cloudoptima.storage.models.notification_rules import NotificationRuleRow
from cloudoptima.storage.models.notifications import Notification
from cloudoptima.storage.models.optimisation import Anomaly, Budget, Recommendation
from cloudoptima.storage.models.password_resets import PasswordResetToken
from cloudoptima.storage.models.policies import Policy, PolicyExecution
from cloudoptima.storage.models.policy_firings import PolicyFiring
from cloudoptima.storage.models.prices import ListPriceRow, PriceRefreshRow
from cloudoptima.storage.models.reports import ReportRow, ReportScheduleRow
from cloudoptima.storage.models.rollups import CostDaily
from cloudoptima.storage.models.sso import SsoIdentity, SsoLogin, SsoProvider

__all__ = [
    "AllocationDimensionRow",
    "AllocationRuleSetRow",
    "Anomaly",
    "ApiKey",
    "AuditLog",
    "Budget",
    "CloudAccount",
    "ContractCommitmentRow",
    "CostAllocatedDaily",
    "CostAllocatedTotal",
    "CostDaily",
    "CostForecast",
    "CostRow",
    "ExecutionEvent",
    "IamPrincipal",
    "IngestRun",
    "ListPriceRow",
    "Notification",
    "NotificationChannelRow",
    "NotificationDeliveryRow",
    "NotificationDigestRow",
    "NotificationRuleRow",
    "Organization",
    "PasswordResetToken",
    "Policy",
    "PolicyExecution",
    "PolicyFiring",
    "PriceRefreshRow",
    "QuarantinedRow",
    "Recommendation",
    "RefreshToken",
    "ReportRow",
    "ReportScheduleRow",
    "ResourceDocument",
    "RevokedToken",
    "SsoIdentity",
    "SsoLogin",
    "SsoProvider",
    "User",
    "UtilisationCursor",
    "UtilisationDay",
]
