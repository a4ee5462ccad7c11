"""Scheduled cost exports (#21): the ScheduledCostExport workflow and its activity, on the reports queue."""
