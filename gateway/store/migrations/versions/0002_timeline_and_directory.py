"""Timeline and directory: related documents, status codes, first download, agency parents.

Deliveries gain a ``withdrawn`` state, so the inbox index now covers open states
rather than unacknowledged rows.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
OPEN = sa.text("state IN ('pending', 'leased')")


def upgrade() -> None:
    with op.batch_alter_table("agencies") as table:
        table.add_column(sa.Column("parent_code", sa.String(35), nullable=True))
        table.create_index("ix_agencies_parent_code", ["parent_code"])
    with op.batch_alter_table("documents") as table:
        table.add_column(sa.Column("related_pk", Id, nullable=True))
        table.add_column(sa.Column("status_code", sa.String(2), nullable=False, server_default=""))
        table.create_foreign_key("fk_documents_related_pk", "documents", ["related_pk"], ["id"])
        table.create_index("ix_documents_related_pk", ["related_pk"])
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("first_leased_at", UTCDateTime, nullable=True))
    op.drop_index("ix_deliveries_inbox", table_name="deliveries")
    op.create_index(
        "ix_deliveries_open",
        "deliveries",
        ["recipient", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("events") as table:
        table.add_column(sa.Column("status_code", sa.String(2), nullable=False, server_default=""))
        table.create_index("ix_events_message_id", ["message_id"])


def downgrade() -> None:
    with op.batch_alter_table("events") as table:
        table.drop_index("ix_events_message_id")
        table.drop_column("status_code")
    op.drop_index("ix_deliveries_open", table_name="deliveries")
    op.create_index(
        "ix_deliveries_inbox",
        "deliveries",
        ["recipient", "id"],
        sqlite_where=sa.text("acknowledged_at IS NULL"),
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("first_leased_at")
    with op.batch_alter_table("documents") as table:
        table.drop_index("ix_documents_related_pk")
        table.drop_constraint("fk_documents_related_pk", type_="foreignkey")
        table.drop_column("status_code")
        table.drop_column("related_pk")
    with op.batch_alter_table("agencies") as table:
        table.drop_index("ix_agencies_parent_code")
        table.drop_column("parent_code")
