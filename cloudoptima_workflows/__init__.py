"""Temporal workflows: one folder per use case, plus worker.py and client.py."""
