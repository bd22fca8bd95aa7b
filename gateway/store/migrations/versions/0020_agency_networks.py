"""The networks an agency's requests must come from (none: any).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as table:
        table.add_column(sa.Column("networks", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agencies") as table:
        table.drop_column("networks")
