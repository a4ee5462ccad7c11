"""Cost analytics, forecasting, anomaly detection, recommendation rules and budgets."""
