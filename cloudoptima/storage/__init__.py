"""SQLAlchemy 2.0 models, Alembic migrations, tenant-scoped repositories and bulk loaders."""
