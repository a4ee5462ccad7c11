"""The notices of anomalies, recommendations, finished executions and failed collections, dispatched through
the organisation's notification rules (:func:`cloudoptima.services.notification_rules.dispatch`).

Each ``notify_*`` function is called by the place where its event becomes true, in the transaction that
records it (the caller commits: a rolled-back event notifies no one), with the caller's ``now`` and, when it
has one, the organisation's ``publish``. Links (:func:`cloudoptima.services.notice_links.notice_links`): ``console_url`` (the web console's base URL,
when one is configured) links inbox and channels to the console's page (``{console_url}/anomalies/{id}`` …);
without it the inbox links to the API path (``/v1/recommendations/{id}`` …) and channels to the same path
under ``public_url`` (``Settings.resolved_public_url``: ``CLOUDOPTIMA_PUBLIC_URL``, else the gateway's own
address, e.g. ``http://127.0.0.1:8000/v1/recommendations/{id}``), which the worker always passes. Without
either, channels get no link (a channel link must be absolute). The API paths: anomalies
``/v1/costs/anomalies/{id}`` (the console's inbox opens it as ``/anomalies/{id}``), recommendations
``/v1/recommendations/{id}``, executions ``/v1/executions/{id}``, accounts ``/v1/cloud-accounts/{id}``.

What each event sends (idempotency keys are stable across retries of the activity that records the event):

- ``anomaly.detected`` (:func:`notify_anomalies_detected`), once per newly created incident (a re-detected
  incident updates its row and is not passed here): title ``Cost anomaly: <scope> +<impact> <currency>``
  (``Cost level change: …`` for a lasting change of level),
  summary the stored explanation (``root_cause``), amount the impact in the run's currency, facts severity,
  scope, period, expected, actual, deviation, top cause (the largest contribution's cell and amount), top
  driver (the resource, usage type or tag whose cost changed most, with its change); severity
  :data:`ANOMALY_SEVERITY` (``critical`` → critical, ``high`` → warning, ``medium`` / ``low`` → info); context
  account (identifier), service, region; key ``anomaly.detected:<anomaly id>``.
- ``recommendation.created`` (:func:`notify_recommendations_created`), once per new recommendation: title
  ``Recommendation: <title>``, amount the estimated monthly savings in the organisation's cost currency
  (:func:`cost_currency`), facts category, risk, provider, account, service (the billing service its
  resources were charged under, :func:`billed_services`, when known), region, resources, annual savings;
  severity ``info``; context account, service, region; key ``recommendation.created:<id>``. Rules' ``min_amount``
  makes "high-value recommendations".
- ``execution.succeeded`` / ``execution.failed`` (:func:`notify_execution_finished`) when a (non dry-run)
  execution reaches ``completed`` (succeeded, ``info``) or ``failed`` (``critical``), ``rolled_back``
  (``warning``) or ``refused`` (``warning``) (all three ``execution.failed``): title
  ``Remediation succeeded|failed|rolled back|refused: <plan title>``, facts plan, resources, outcome,
  error, risk, monthly savings; context amount (the plan's savings) and the account of its first step;
  key ``execution.<state>:<execution id>``.
- ``collection.failed`` (:func:`notify_collection_failed`) when an account's collection fails: refused
  credentials (the account turns ``error``; ``critical``), steps denied permissions (the account turns
  ``degraded``; ``warning``) — only on the account's change into that state — or steps that failed for
  good with a provider error (``failed``; ``warning``), once per failure occurrence, keyed
  ``collection.failed:<account id>:<error|degraded|failed:<steps>>:<last successful sync or "never">``
  (a retry or a rerun failing the same way before the next successful sync is the same occurrence);
  title ``Collection failed for <provider> account <name>``; facts account, provider, step, error, last
  successful sync; context account (identifier).

- ``commitment.expiring`` (:func:`notify_commitments_expiring`): an owned commitment (SDK inventory) in force
  ends within 30 days (:data:`EXPIRY_THRESHOLDS`), once per commitment and threshold; ``warning``
  (``critical`` at 7 days or fewer); key ``commitment.expiring:<row id>:<threshold>`` (contract in
  :mod:`.commitments`).
- ``recommendation.overdue`` (:func:`notify_recommendations_overdue`): an ``accepted`` recommendation past its
  due date, once per due date, to its owner (default rule ``recipients.owner``); ``warning``; amount the
  estimated monthly saving; facts owner, due date, days overdue; key
  ``recommendation.overdue:<id>:<due date>`` (contract in :mod:`.overdue`).

The parts: :mod:`.common` (facts, links, the cost currency, sending), :mod:`.anomalies`,
:mod:`.recommendations`, :mod:`.executions` and :mod:`.collections`, one per event family. The names below
are the package's public interface; callers import them from here.
"""

from __future__ import annotations

from cloudoptima.services.event_notices.anomalies import (
    ANOMALY_SEVERITY,
    anomaly_notice,
    notify_anomalies_detected,
)
from cloudoptima.services.event_notices.collections import COLLECTION_FAILURES, notify_collection_failed
from cloudoptima.services.event_notices.commitments import EXPIRY_THRESHOLDS, notify_commitments_expiring
from cloudoptima.services.event_notices.common import DEFAULT_CURRENCY, cost_currency
from cloudoptima.services.event_notices.executions import EXECUTION_OUTCOMES, notify_execution_finished
from cloudoptima.services.event_notices.overdue import notify_recommendations_overdue
from cloudoptima.services.event_notices.recommendations import (
    billed_services,
    notify_recommendations_created,
    recommendation_notice,
)

__all__ = [
    "ANOMALY_SEVERITY",
    "COLLECTION_FAILURES",
    "DEFAULT_CURRENCY",
    "EXECUTION_OUTCOMES",
    "EXPIRY_THRESHOLDS",
    "anomaly_notice",
    "billed_services",
    "cost_currency",
    "notify_anomalies_detected",
    "notify_collection_failed",
    "notify_commitments_expiring",
    "notify_execution_finished",
    "notify_recommendations_created",
    "notify_recommendations_overdue",
    "recommendation_notice",
]
