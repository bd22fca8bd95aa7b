"""Refusals and forwards given up found through indexes of their own, by time: an
agency's statistics and the dashboard read the evidence log without a scan. The records
of every delivery are in neither index, so requests write no page more.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = {"refused": ["at", "agency"], "failed": ["at"]}


def upgrade() -> None:
    for kind, columns in INDEXES.items():
        only = sa.text(f"kind = '{kind}'")
        op.create_index(
            f"ix_events_{kind}", "events", columns, sqlite_where=only, postgresql_where=only
        )


def downgrade() -> None:
    for kind in INDEXES:
        op.drop_index(f"ix_events_{kind}", table_name="events")
