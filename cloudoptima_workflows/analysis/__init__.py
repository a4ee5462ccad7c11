"""Analysis after collection: anomalies → recommendations → budgets → events per organisation; daily forecasts."""
