"""Documents found by DocumentId and sender together: the document a take-back, revoke,
update or replacement names, and the one a send status asks for, are found among the
documents of that DocumentId, not among every document their sender ever sent, which
SQLite without statistics read when it had the index by DocumentId alone to weigh
against the one by sender. A search by DocumentId alone keeps the new index's prefix.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_document_id_sender", "documents", ["document_id", "sender"])
    op.drop_index("ix_documents_document_id", table_name="documents")


def downgrade() -> None:
    op.create_index("ix_documents_document_id", "documents", ["document_id"])
    op.drop_index("ix_documents_document_id_sender", table_name="documents")
