"""The tables of the first release (created with ``create_all``, before Alembic).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("location", sa.String(500), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("all_day", sa.Boolean, nullable=False),
        sa.Column("start_utc", sa.DateTime, nullable=False),
        sa.Column("end_utc", sa.DateTime, nullable=False),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("span_end_utc", sa.DateTime),
        sa.Column("recurrence", sa.JSON, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("created_utc", sa.DateTime, nullable=False),
        sa.Column("updated_utc", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_calendar_events_owner_start", "calendar_events", ["owner", "start_utc", "id"]
    )
    op.create_index(
        "ix_calendar_events_owner_span_end", "calendar_events", ["owner", "span_end_utc"]
    )
    op.create_table(
        "calendar_idempotency_keys",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_utc", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_calendar_idempotency_keys_created_utc", "calendar_idempotency_keys", ["created_utc"]
    )
