"""Hub to hub and the direct model: who collects a delivery, agencies behind child hubs,
agency inbox endpoints.

Documents now cross between hubs, so their senders and recipients need not be agencies
registered here: those foreign keys go. The inbox index moves from ``recipient`` to
``inbox``.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('pending', 'leased')")


def upgrade() -> None:
    with op.batch_alter_table("agencies") as table:
        table.add_column(sa.Column("via", sa.String(35), nullable=True))
        table.add_column(sa.Column("endpoint", sa.Unicode(500), nullable=True))
    op.drop_index("ix_deliveries_open", table_name="deliveries")
    with op.batch_alter_table("documents") as table:
        table.drop_constraint("fk_documents_sender", type_="foreignkey")
    with op.batch_alter_table("deliveries") as table:
        table.drop_constraint("fk_deliveries_recipient", type_="foreignkey")
        table.add_column(sa.Column("inbox", sa.String(35), nullable=True))
    op.execute("UPDATE deliveries SET inbox = recipient")
    with op.batch_alter_table("deliveries") as table:
        table.alter_column("inbox", existing_type=sa.String(35), nullable=False)
    op.create_index(
        "ix_deliveries_open",
        "deliveries",
        ["inbox", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_open", table_name="deliveries")
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("inbox")
        table.create_foreign_key("fk_deliveries_recipient", "agencies", ["recipient"], ["code"])
    with op.batch_alter_table("documents") as table:
        table.create_foreign_key("fk_documents_sender", "agencies", ["sender"], ["code"])
    op.create_index(
        "ix_deliveries_open",
        "deliveries",
        ["recipient", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("agencies") as table:
        table.drop_column("endpoint")
        table.drop_column("via")
