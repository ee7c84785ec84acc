"""Span classes for index-bound windows, COUNT rules' last start, change numbers and
tombstones for incremental sync.

Revision ID: 0002
Revises: 0001

Existing events get their span class from their stored span, and change numbers per owner
in the order they were last written; ``rule_last`` stays empty (it is computed, once per
process, when such a row is read).
"""

from __future__ import annotations

import math
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN_SPAN = 62


def upgrade() -> None:
    with op.batch_alter_table("calendar_events") as table:
        table.add_column(
            sa.Column("span_class", sa.SmallInteger, nullable=False, server_default="0")
        )
        table.add_column(sa.Column("rule_last", sa.DateTime))
        table.add_column(sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"))
        table.drop_index("ix_calendar_events_owner_span_end")
        table.create_index(
            "ix_calendar_events_owner_class_start", ["owner", "span_class", "start_utc", "id"]
        )
        table.create_index("ix_calendar_events_owner_change", ["owner", "change_seq"])
    owners = op.create_table(
        "calendar_owners",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("span_classes", sa.BigInteger, nullable=False),
        sa.Column("purged_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "calendar_tombstones",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("change_seq", sa.BigInteger, nullable=False),
        sa.Column("deleted_utc", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_calendar_tombstones_owner_change", "calendar_tombstones", ["owner", "change_seq"]
    )
    op.create_index(
        "ix_calendar_tombstones_owner_deleted", "calendar_tombstones", ["owner", "deleted_utc"]
    )
    _backfill(owners)


def _backfill(owners: sa.Table) -> None:
    events = sa.table(
        "calendar_events",
        sa.column("id"),
        sa.column("owner"),
        sa.column("start_utc", sa.DateTime),
        sa.column("span_end_utc", sa.DateTime),
        sa.column("updated_utc", sa.DateTime),
        sa.column("span_class"),
        sa.column("change_seq"),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(events.c.id, events.c.owner, events.c.start_utc, events.c.span_end_utc).order_by(
            events.c.owner, events.c.updated_utc, events.c.id
        )
    ).all()
    counters: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for event_id, owner, start, span_end in rows:
        span = None if span_end is None else (span_end - start).total_seconds()
        klass = OPEN_SPAN if span is None else max(0, math.ceil(math.log2(max(span, 1.0))))
        counter = counters[owner]
        counter[0] += 1
        counter[1] |= 1 << klass
        bind.execute(
            sa.update(events)
            .where(events.c.id == event_id)
            .values(span_class=klass, change_seq=counter[0])
        )
    if counters:
        op.bulk_insert(
            owners,
            [
                {"owner": o, "last_seq": seq, "span_classes": mask, "purged_seq": 0}
                for o, (seq, mask) in counters.items()
            ],
        )
