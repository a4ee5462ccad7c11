"""Alembic migrations (run with ``cloudoptima db upgrade`` or automatically by ``cloudoptima up``)."""
