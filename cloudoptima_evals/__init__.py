"""Quality evaluations against ground truth (recommendations, root cause, forecasts, narratives)."""
