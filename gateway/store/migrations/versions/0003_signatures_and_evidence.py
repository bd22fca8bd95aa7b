"""Signatures and the evidence chain: agency certificates and policies, document signature
marks, a hash chain over the events, its head, and signed checkpoints.

Events recorded before this revision are chained in their original order.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from gateway.security.evidence import GENESIS, record_hash
from gateway.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("agencies") as table:
        table.add_column(sa.Column("certificate", sa.Text, nullable=True))
        table.add_column(
            sa.Column("signature_policy", sa.String(16), nullable=False, server_default="optional")
        )
    with op.batch_alter_table("documents") as table:
        table.add_column(
            sa.Column("signature", sa.String(16), nullable=False, server_default="none")
        )
    with op.batch_alter_table("events") as table:
        table.add_column(sa.Column("seq", sa.BigInteger, nullable=True))
        table.add_column(
            sa.Column("content_sha256", sa.String(64), nullable=False, server_default="")
        )
        table.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        table.add_column(sa.Column("record_hash", sa.String(64), nullable=True))
    head_seq, head_hash = _chain_existing_events()
    with op.batch_alter_table("events") as table:
        table.alter_column("seq", existing_type=sa.BigInteger, nullable=False)
        table.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        table.alter_column("record_hash", existing_type=sa.String(64), nullable=False)
        table.create_unique_constraint("uq_events_seq", ["seq"])
        table.create_index("ix_events_document_id", ["document_id"])
    head = op.create_table(
        "evidence_head",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": head_seq, "record_hash": head_hash}])
    op.create_table(
        "checkpoints",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkpoints"),
    )
    op.create_index("ix_checkpoints_seq", "checkpoints", ["seq"])


def _chain_existing_events() -> tuple[int, str]:
    events = sa.table(
        "events",
        *(sa.column(name) for name in ("id", "kind", "agency", "document_id", "message_id",
                                       "status_code", "detail", "seq", "content_sha256",
                                       "prev_hash", "record_hash")),
        sa.column("at", UTCDateTime),
    )  # fmt: skip
    connection = op.get_bind()
    previous, seq = GENESIS, 0
    for row in connection.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        seq += 1
        record = {**row, "seq": seq, "content_sha256": "", "prev_hash": previous}
        previous = record_hash(record)
        connection.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=record["prev_hash"], record_hash=previous)
        )
    return seq, previous


def downgrade() -> None:
    op.drop_table("checkpoints")
    op.drop_table("evidence_head")
    with op.batch_alter_table("events") as table:
        table.drop_index("ix_events_document_id")
        table.drop_constraint("uq_events_seq", type_="unique")
        for column in ("record_hash", "prev_hash", "content_sha256", "seq"):
            table.drop_column(column)
    with op.batch_alter_table("documents") as table:
        table.drop_column("signature")
    with op.batch_alter_table("agencies") as table:
        table.drop_column("signature_policy")
        table.drop_column("certificate")
