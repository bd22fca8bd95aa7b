"""Two index pages fewer per request. Nonces keyed by when they expire (their token's
Created time plus the clock skew), so that one b-tree both finds a replay and lets the
expired go. Records about a delivery name its document now (acknowledgements did not)
and are found through it; only the earlier ones that do not stay indexed by MessageId,
and records about no document (refusals, purges) are indexed by nothing.

The nonces remembered until now are not carried over: their tokens' Created times were
not kept. A token signed in with during the clock skew before the upgrade could be
replayed once after it, within that skew.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from gateway.store.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NAMES_DOCUMENT = sa.text("document_id <> ''")
NAMES_NO_DOCUMENT = sa.text("document_id = ''")


def upgrade() -> None:
    op.drop_table("nonces")
    op.create_table(
        "nonces",
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("agency", sa.String(35), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("expires_at", "agency", "nonce", name="pk_nonces"),
        sqlite_with_rowid=False,
    )
    op.drop_index("ix_events_document_id", table_name="events")
    op.drop_index("ix_events_message_id", table_name="events")
    op.create_index(
        "ix_events_document_id", "events", ["document_id"],
        sqlite_where=NAMES_DOCUMENT, postgresql_where=NAMES_DOCUMENT,
    )  # fmt: skip
    op.create_index(
        "ix_events_message_id", "events", ["message_id"],
        sqlite_where=NAMES_NO_DOCUMENT, postgresql_where=NAMES_NO_DOCUMENT,
    )  # fmt: skip


def downgrade() -> None:
    for column in ("document_id", "message_id"):
        op.drop_index(f"ix_events_{column}", table_name="events")
        op.create_index(f"ix_events_{column}", "events", [column])
    op.drop_table("nonces")
    op.create_table(
        "nonces",
        sa.Column("agency", sa.String(35), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("agency", "nonce", name="pk_nonces"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_nonces_expires_at", "nonces", ["expires_at"])
