"""Deliveries found by recipient and the time they were made: an agency's statistics
count what it received in a period within its own range of an index, instead of reading
every delivery the hub ever made (rows are kept after their document's bytes are purged).
Existing deliveries take their document's time of receipt.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("created_at", sa.DateTime, nullable=True))
    op.execute(
        "UPDATE deliveries SET created_at ="
        " (SELECT received_at FROM documents WHERE documents.id = deliveries.document_pk)"
    )
    with op.batch_alter_table("deliveries") as table:
        table.alter_column("created_at", existing_type=sa.DateTime, nullable=False)
    made = sa.text("created_at IS NOT NULL")  # see tables.py: for the planners only
    op.create_index("ix_deliveries_recipient_created_at", "deliveries",
                    ["recipient", "created_at"], sqlite_where=made,
                    postgresql_where=made)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_deliveries_recipient_created_at", table_name="deliveries")
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("created_at")
