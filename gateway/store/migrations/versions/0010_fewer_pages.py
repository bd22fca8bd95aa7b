"""Fewer pages written per request: nonces in their key's own b-tree on SQLite, and the
index of documents by the one they concern holding only the documents that concern one.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ANSWERING = sa.text("related_pk IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_documents_related_pk", table_name="documents")
    op.create_index(
        "ix_documents_related_pk", "documents", ["related_pk"],
        sqlite_where=ANSWERING, postgresql_where=ANSWERING,
    )  # fmt: skip
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "nonces", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("nonces", recreate="always"):
            pass
    op.drop_index("ix_documents_related_pk", table_name="documents")
    op.create_index("ix_documents_related_pk", "documents", ["related_pk"])
