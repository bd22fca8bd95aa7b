"""Document bytes in pieces: stored and read a piece at a time, never whole.

Existing documents become one piece each.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "document_chunks",
        sa.Column("document_pk", Id, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("document_pk", "seq", name="pk_document_chunks"),
        sa.ForeignKeyConstraint(
            ["document_pk"], ["documents.id"], name="fk_document_chunks_document_pk"
        ),
    )
    op.execute(
        "INSERT INTO document_chunks (document_pk, seq, data) "
        "SELECT document_pk, 0, content FROM document_contents"
    )
    op.drop_table("document_contents")


def downgrade() -> None:
    op.create_table(
        "document_contents",
        sa.Column("document_pk", Id, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("document_pk", name="pk_document_contents"),
        sa.ForeignKeyConstraint(
            ["document_pk"], ["documents.id"], name="fk_document_contents_document_pk"
        ),
    )
    op.execute(
        "INSERT INTO document_contents (document_pk, content) "
        "SELECT document_pk, data FROM document_chunks WHERE seq = 0"
    )
    op.drop_table("document_chunks")
