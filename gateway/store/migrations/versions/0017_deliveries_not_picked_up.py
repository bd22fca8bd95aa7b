"""Deliveries nobody has picked up found through an index of their own, by the time they
were made: the dashboard lists the oldest of them without reading every open delivery.
A delivery leaves the index when it is first leased.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unfetched = sa.text("state = 'pending' AND lease_count = 0")  # see tables.py: UNFETCHED
    op.create_index("ix_deliveries_unfetched", "deliveries", ["created_at"],
                    sqlite_where=unfetched, postgresql_where=unfetched)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_deliveries_unfetched", table_name="deliveries")
