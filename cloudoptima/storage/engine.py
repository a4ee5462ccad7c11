"""Engine and session factories. Nothing connects at import time."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.observability.tracing import instrument_engine
from cloudoptima.settings import Settings


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` / ``postgres://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """A pooled engine with pre-ping (the embedded server may restart under a long-lived process); its SQL
    statements become spans while tracing is on (``cloudoptima.observability.tracing``)."""
    engine = create_engine(normalise_url(url), pool_size=pool_size, max_overflow=20, pool_pre_ping=True)
    instrument_engine(engine)
    return engine


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url())


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
