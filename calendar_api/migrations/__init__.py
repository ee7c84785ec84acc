"""Alembic migrations of the calendar schema (run by ``calendar_api.database.migrate``)."""
