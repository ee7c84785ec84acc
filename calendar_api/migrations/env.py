"""Alembic's environment: migrations run on the connection ``database.migrate`` passes."""

from __future__ import annotations

from alembic import context

from calendar_api.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
)
with context.begin_transaction():
    context.run_migrations()
