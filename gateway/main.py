"""Uvicorn entry point: ``uvicorn gateway.main:app_factory --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.app import create_app


def app_factory() -> FastAPI:
    """Settings come from the environment (the only reader is ``cloudoptima.settings``)."""
    return create_app()
