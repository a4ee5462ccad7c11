"""Alembic environment: the URL comes from the Config built by :mod:`cloudoptima.storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import cloudoptima.storage.models  # noqa: F401 - registers every table on the metadata
from cloudoptima.storage.base import Base

config = context.config
target_metadata = Base.metadata
url = config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    assert url, "sqlalchemy.url must be set on the Alembic Config"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
