"""Cost-data trust (#21): reconciliation with the provider's totals and data freshness."""
