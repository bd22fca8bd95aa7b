"""Quotas: per-agency overrides, and an index to count what an agency sent lately.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as table:
        table.add_column(sa.Column("quota_per_minute", sa.Integer, nullable=True))
        table.add_column(sa.Column("quota_bytes_per_day", sa.BigInteger, nullable=True))
    op.create_index("ix_documents_sender_received_at", "documents", ["sender", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_sender_received_at", table_name="documents")
    with op.batch_alter_table("agencies") as table:
        table.drop_column("quota_bytes_per_day")
        table.drop_column("quota_per_minute")
