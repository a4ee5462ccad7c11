"""Event and threshold triggers of an organisation's policies: find what fired, record each firing once.

Contract (:meth:`PolicyTriggerService.evaluate`, run after each collection and analysis):

- Only enabled policies with an ``event`` or ``threshold`` trigger are looked at.
- **Events** are read from what the organisation's tables say happened (so a missed or retried run loses
  nothing): ``anomaly.detected`` (anomalies by ``detected_at``), ``recommendation.created`` (active
  recommendations by ``created_at``), ``budget.threshold_crossed`` (each threshold in a budget's
  ``alert_state``, by the time it fired), ``resource.created`` (resources by ``first_seen``),
  ``resource.changed`` (resources whose name, status, region, tags or configuration changed, by
  ``last_updated``; a deletion is a change to ``deleted``), ``collection.failed`` (accounts whose credentials
  were refused, status ``error``, by ``updated_at``). An event counts for a policy when it happened at or
  after the later of the policy's creation and ``now - EVENT_LOOKBACK`` and every ``config.filters`` entry
  equals the event's payload field (:data:`cloudoptima.domain.policy_fields.EVENTS`). An event pushed by
  the caller (``pushed``) is evaluated too; its id is ``payload["id"]`` or a digest of the payload.
- **Thresholds** compare a metric over the ``window_days`` whole UTC days before ``today``
  (``[today - window_days, today)``) with ``operator`` and ``value``: ``daily_cost`` is the billed cost
  of each day (``cost_daily``, filtered, per currency; a day without rows costs 0); a usage metric
  (``cpu_percent`` …) is each resource's daily mean from the utilisation history (a resource lacking
  samples on any day of the window is not judged: no finding from absent data). ``aggregation``
  ``every_day`` (default) needs every day to compare true, ``average`` the window's mean. A cost threshold
  fires per currency; a usage threshold fires once for all the resources that crossed, and its execution
  acts on those resources only. A subject (a currency, a resource) that fired does not fire again for the
  same policy while its earlier window overlaps the current one: a breach that lasts fires once per window.
- Each firing is one ``policy_firings`` row (``storage.models.policy_firings``) inserted with
  ``ON CONFLICT DO NOTHING`` on ``(policy_id, fire_key)``: evaluating twice, concurrently or after a crash,
  fires an event once. A firing about resources (a usage threshold; a ``resource.*`` event; a
  recommendation's resources) carries their ids, and its execution acts on those of the policy's matches
  only. :meth:`evaluate` returns only the firings it inserted; the caller starts one
  policy execution per firing (``execution_id`` is decided here) and records its workflow with
  :meth:`attach`; :meth:`unstarted` lists the firings whose start was never recorded (started again by the
  next evaluation, idempotent by workflow id). The caller commits.

The package: ``model`` (events, firings), ``events`` (reading the organisation's events), ``thresholds``
(judging metrics over a window) and ``service`` (:class:`PolicyTriggerService`: evaluation and the ledger).
"""

from __future__ import annotations

from cloudoptima.services.policy_triggers.events import EventReader
from cloudoptima.services.policy_triggers.model import EVENT_LOOKBACK, Event, Firing, pushed_event
from cloudoptima.services.policy_triggers.service import PolicyTriggerService
from cloudoptima.services.policy_triggers.thresholds import ThresholdTriggers

__all__ = [
    "EVENT_LOOKBACK",
    "Event",
    "EventReader",
    "Firing",
    "PolicyTriggerService",
    "ThresholdTriggers",
    "pushed_event",
]
