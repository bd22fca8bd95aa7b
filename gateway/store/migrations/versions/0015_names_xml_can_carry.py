"""Agency names XML cannot carry made listable: a name stored before such names were
refused (a stray control character from an imported file) made every GetAgencies that
reached it fail. Each such character becomes a space (a name of nothing else becomes its
code); the rest of the name is kept as it was, Vietnamese included. Downgrading leaves
the names as they are.

Revision ID: 0015
Revises: 0014
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""The characters of XML 1.0's exclusions a database can hold (not surrogates)."""

agencies = sa.table("agencies", sa.column("code", sa.String), sa.column("name", sa.Unicode))


def upgrade() -> None:
    conn = op.get_bind()
    renamed = [
        {"that": code, "name": NOT_IN_XML.sub(" ", name).strip() or code}
        for code, name in conn.execute(sa.select(agencies.c.code, agencies.c.name))
        if NOT_IN_XML.search(name)
    ]
    if renamed:
        conn.execute(
            agencies.update()
            .where(agencies.c.code == sa.bindparam("that"))
            .values(name=sa.bindparam("name")),
            renamed,
        )


def downgrade() -> None:
    """The characters replaced are not kept."""
