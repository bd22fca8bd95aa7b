"""Failed sign-ins counted per agency and per operator: after too many wrong passwords
in a row, their sign-ins are refused for a while. The agencies ever locked are indexed,
for the dashboard to find those locked now among a national directory.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


TABLES = ("agencies", "operators")
LOCKED = sa.text("locked_until IS NOT NULL")


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.add_column(
                sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0")
            )
            table.add_column(sa.Column("locked_until", UTCDateTime, nullable=True))
    op.create_index(
        "ix_agencies_locked", "agencies", ["locked_until"],
        sqlite_where=LOCKED, postgresql_where=LOCKED,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_agencies_locked", table_name="agencies")
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.drop_column("locked_until")
            table.drop_column("failed_sign_ins")
