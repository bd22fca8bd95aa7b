"""A per-agency, per-day counter for the daily byte quota.

Summing the day's documents on every send grew with what an agency sent that day. The
counter starts from the documents of the last two days.

Revision ID: 0009
Revises: 0008
"""

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VIETNAM = timezone(timedelta(hours=7))


def upgrade() -> None:
    usage = op.create_table(
        "agency_usage",
        sa.Column("agency", sa.String(35), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("documents", sa.Integer, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("agency", "day", name="pk_agency_usage"),
    )
    documents = sa.table(
        "documents", sa.column("sender"), sa.column("received_at", sa.DateTime),
        sa.column("size", sa.BigInteger),
    )  # fmt: skip
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=2)
    counts, sizes = Counter(), Counter()
    rows = op.get_bind().execute(
        sa.select(documents.c.sender, documents.c.received_at, documents.c.size).where(
            documents.c.received_at >= since
        )
    )
    for sender, received_at, size in rows:
        day = received_at.replace(tzinfo=UTC).astimezone(VIETNAM).date()
        counts[sender, day] += 1
        sizes[sender, day] += size
    if counts:
        op.bulk_insert(usage, [
            {"agency": sender, "day": day, "documents": n, "bytes": sizes[sender, day]}
            for (sender, day), n in counts.items()
        ])  # fmt: skip


def downgrade() -> None:
    op.drop_table("agency_usage")
