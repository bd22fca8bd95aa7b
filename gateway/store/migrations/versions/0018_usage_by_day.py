"""Day counts found by their day: a purge forgets the days before its retention a batch
at a time, each batch read from the oldest end of this index, instead of one delete that
read every agency's every day and held the writers for seconds.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_agency_usage_day", "agency_usage", ["day"])


def downgrade() -> None:
    op.drop_index("ix_agency_usage_day", table_name="agency_usage")
