"""The initial schema: agencies, documents and their bytes, deliveries, events, nonces.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(35), nullable=False),
        sa.Column("name", sa.Unicode(500), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("allow_digest", sa.Boolean, nullable=False),
        sa.Column("digest_secret", sa.LargeBinary, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_agencies"),
    )
    op.create_table(
        "documents",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("sender", sa.String(35), nullable=False),
        sa.Column("document_id", sa.Unicode(255), nullable=False),
        sa.Column("idempotency_key", sa.Unicode(400), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("business_type", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("subject", sa.Unicode(1000), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.ForeignKeyConstraint(["sender"], ["agencies.code"], name="fk_documents_sender"),
        sa.UniqueConstraint(
            "sender", "idempotency_key", name="uq_documents_sender_idempotency_key"
        ),
    )
    op.create_index("ix_documents_document_id", "documents", ["document_id"])
    op.create_table(
        "document_contents",
        sa.Column("document_pk", Id, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("document_pk", name="pk_document_contents"),
        sa.ForeignKeyConstraint(
            ["document_pk"], ["documents.id"], name="fk_document_contents_document_pk"
        ),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("document_pk", Id, nullable=False),
        sa.Column("recipient", sa.String(35), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("visible_at", UTCDateTime, nullable=False),
        sa.Column("lease_count", sa.Integer, nullable=False),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["document_pk"], ["documents.id"], name="fk_deliveries_document_pk"
        ),
        sa.ForeignKeyConstraint(["recipient"], ["agencies.code"], name="fk_deliveries_recipient"),
        sa.UniqueConstraint("message_id", name="uq_deliveries_message_id"),
    )
    op.create_index("ix_deliveries_document_pk", "deliveries", ["document_pk"])
    op.create_index(
        "ix_deliveries_inbox",
        "deliveries",
        ["recipient", "id"],
        sqlite_where=sa.text("acknowledged_at IS NULL"),
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_table(
        "events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(35), nullable=False),
        sa.Column("document_id", sa.Unicode(255), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("detail", sa.Unicode(1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_table(
        "nonces",
        sa.Column("agency", sa.String(35), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("agency", "nonce", name="pk_nonces"),
    )
    op.create_index("ix_nonces_expires_at", "nonces", ["expires_at"])


def downgrade() -> None:
    for table in ("nonces", "events", "deliveries", "document_contents", "documents", "agencies"):
        op.drop_table(table)
