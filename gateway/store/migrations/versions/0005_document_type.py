"""The document type (Công văn, Quyết định, ...) of each document, for statistics.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.add_column(
            sa.Column("document_type", sa.Unicode(100), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.drop_column("document_type")
