"""The events keyed by their sequence number in the chain, their own order: one index
fewer to write with every record (on SQLite the rows' own b-tree is ordered by it).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as table:
        table.drop_constraint("uq_events_seq", type_="unique")
        table.drop_constraint("pk_events", type_="primary")
        table.drop_column("id")
        table.alter_column("seq", type_=Id, existing_nullable=False)
        table.create_primary_key("pk_events", ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("events") as table:
        table.drop_constraint("pk_events", type_="primary")
        table.alter_column("seq", type_=sa.BigInteger, existing_nullable=False)
        table.add_column(sa.Column("id", Id, nullable=True))
    op.execute("UPDATE events SET id = seq")
    with op.batch_alter_table("events") as table:
        table.alter_column("id", existing_type=Id, nullable=False)
        table.create_primary_key("pk_events", ["id"])
        table.create_unique_constraint("uq_events_seq", ["seq"])
    if op.get_bind().dialect.name == "postgresql":  # SQLite numbers an INTEGER key itself
        op.execute("CREATE SEQUENCE events_id_seq OWNED BY events.id")
        op.execute("SELECT setval('events_id_seq', coalesce(max(id), 0) + 1, false) FROM events")
        op.execute("ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq')")
