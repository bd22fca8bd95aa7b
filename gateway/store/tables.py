"""The hub's tables (SQLAlchemy 2 Core). Migrations in ``migrations/`` create them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    and_,
)
from sqlalchemy.sql import text
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer, "sqlite")
"""64-bit keys; SQLite only auto-increments an INTEGER PRIMARY KEY."""


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def sign_in_lock_columns() -> tuple[Column, Column]:
    """Wrong passwords in a row, and until when sign-ins are refused after too many."""
    return (
        Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
        Column("locked_until", UTCDateTime, nullable=True),
    )


agencies = Table(
    "agencies",
    metadata,
    Column("code", String(35), primary_key=True),
    Column("name", Unicode(500), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("allow_digest", Boolean, nullable=False, default=False),
    Column("digest_secret", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False, default=lambda: datetime.now(UTC)),
    Column("parent_code", String(35), nullable=True, index=True),
    Column("certificate", Text, nullable=True),
    Column("signature_policy", String(16), nullable=False, default="optional"),
    Column("quota_per_minute", Integer, nullable=True),
    Column("quota_bytes_per_day", BigInteger, nullable=True),
    Column("via", String(35), nullable=True),
    Column("endpoint", Unicode(500), nullable=True),
    Column("networks", Text, nullable=True),
    *sign_in_lock_columns(),
)

Index(
    "ix_agencies_locked", agencies.c.locked_until,
    sqlite_where=text("locked_until IS NOT NULL"),
    postgresql_where=text("locked_until IS NOT NULL"),
)  # fmt: skip

ANSWERING = text("related_pk IS NOT NULL")
"""The documents that concern an earlier one (a status message, revoke, update or
replacement)."""

documents = Table(
    "documents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sender", String(35), nullable=False),
    Column("document_id", Unicode(255), nullable=False),
    Column("idempotency_key", Unicode(400), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("business_type", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("subject", Unicode(1000), nullable=False, default=""),
    Column("received_at", UTCDateTime, nullable=False),
    Column("related_pk", Id, ForeignKey("documents.id"), nullable=True),
    Column("status_code", String(2), nullable=False, default=""),
    Column("signature", String(16), nullable=False, default="none"),
    Column("document_type", Unicode(100), nullable=False, default=""),
    UniqueConstraint("sender", "idempotency_key"),
    # DocumentId and sender together: without statistics SQLite weighs an index by
    # DocumentId alone as no better than the one by sender, and took the sender's.
    Index(None, "document_id", "sender"),
    Index(None, "sender", "received_at"),
    # Only documents answering, revoking or replacing another have one: a new document
    # adds no entry (and writes no index page).
    Index(None, "related_pk", sqlite_where=ANSWERING, postgresql_where=ANSWERING),
)

CHUNK_BYTES = 3 * 2**18
"""Document bytes are stored in pieces of 768 KiB: written and read one piece at a time,
and a multiple of 3, so that each piece base64-encodes on its own."""

document_chunks = Table(
    "document_chunks",
    metadata,
    Column("document_pk", Id, ForeignKey("documents.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)
"""A document's bytes, once, in order, apart from the rows that delivery queries scan."""

MADE = text("created_at IS NOT NULL")
"""The condition of the index of deliveries by recipient and time: always true."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("document_pk", Id, ForeignKey("documents.id"), nullable=False, index=True),
    Column("recipient", String(35), nullable=False),
    Column("inbox", String(35), nullable=False),
    Column("state", String(16), nullable=False),
    Column("visible_at", UTCDateTime, nullable=False),
    Column("lease_count", Integer, nullable=False, default=0),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("first_leased_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # What an agency received in a period is read in its own range of this index, not
    # by scanning every delivery the hub ever made (they are kept after a purge). Every
    # row is in it (created_at is never NULL), but a database uses a partial index only
    # for a query that repeats its condition: the queries by recipient alone (a backlog,
    # the document a status message answers) keep the plans they have without statistics.
    Index(None, "recipient", "created_at", sqlite_where=MADE, postgresql_where=MADE),
)
"""Senders and recipients need not be agencies of this hub: documents cross to and from
its parent hub. ``inbox`` is who collects a delivery: its recipient, the child hub the
recipient is behind, or ``@parent`` for the link to this hub's parent. ``created_at`` is when
the delivery was made: when its document was received, for all but the deliveries a
document gains later (when the parent hub delivers it again for another recipient)."""
OPEN_STATES = ("pending", "leased")
"""Deliveries a recipient may still be offered; the other states are closed."""
IS_OPEN = text("deliveries.state IN ('pending', 'leased')")
"""The open-state test, spelled with literals: SQLite uses the partial index below only
when a query repeats its predicate, which a bound parameter does not."""
Index(
    "ix_deliveries_open",
    deliveries.c.inbox,
    deliveries.c.id,
    sqlite_where=deliveries.c.state.in_(OPEN_STATES),
    postgresql_where=deliveries.c.state.in_(OPEN_STATES),
)
UNFETCHED = text("deliveries.state = 'pending' AND deliveries.lease_count = 0")
"""Deliveries nobody has picked up yet, spelled with literals as IS_OPEN is: the
condition of their index, which a delivery leaves when it is first leased."""
Index(
    "ix_deliveries_unfetched",
    deliveries.c.created_at,
    sqlite_where=and_(deliveries.c.state == "pending", deliveries.c.lease_count == 0),
    postgresql_where=and_(deliveries.c.state == "pending", deliveries.c.lease_count == 0),
)

events = Table(
    "events",
    metadata,
    # The chain's own order is the key: on SQLite the rows' b-tree, with no second index.
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("agency", String(35), nullable=False),
    Column("document_id", Unicode(255), nullable=False, default=""),
    Column("message_id", String(36), nullable=False, default=""),
    Column("detail", Unicode(1000), nullable=False, default=""),
    Column("status_code", String(2), nullable=False, default=""),
    Column("content_sha256", String(64), nullable=False, default=""),
    Column("prev_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
    # A record about a document is found through its DocumentId, a record about a
    # delivery through its document too: it names both. Only the acknowledgements
    # recorded before they named their document are indexed by their MessageId, and
    # records about neither (refusals, purges) by nothing.
    Index(None, "document_id", sqlite_where=text("document_id <> ''"),
          postgresql_where=text("document_id <> ''")),
    Index(None, "message_id", sqlite_where=text("document_id = ''"),
          postgresql_where=text("document_id = ''")),
    # Refusals and forwards given up come seldom and are asked for by themselves (an
    # agency's statistics, the dashboard): each kind has an index of its own by time,
    # which the records of every delivery do not write.
    Index("ix_events_refused", "at", "agency", sqlite_where=text("kind = 'refused'"),
          postgresql_where=text("kind = 'refused'")),
    Index("ix_events_failed", "at", sqlite_where=text("kind = 'failed'"),
          postgresql_where=text("kind = 'failed'")),
)  # fmt: skip
"""Every change, as a hash chain: each record holds the hash of the one before (the
evidence log; see gateway/security/evidence.py)."""
_NAMES_DOCUMENT = text("events.document_id <> ''")
_NAMES_NO_DOCUMENT = text("events.document_id = ''")
"""The tests of the records in each partial index, spelled with literals as the indexes'
own: a database uses a partial index only for a query that repeats its predicate."""
SELDOM = {kind: text(f"events.kind = '{kind}'") for kind in ("refused", "failed")}
"""The kinds of record indexed by themselves, and the test of each."""


def about_document(document_id: str):
    """The condition on events of the records about documents with this DocumentId."""
    return _NAMES_DOCUMENT & (events.c.document_id == document_id)


def unfiled(message_ids: Sequence[str]):
    """The condition on events of the records about these deliveries that do not name
    their document (acknowledgements recorded before they did)."""
    return _NAMES_NO_DOCUMENT & events.c.message_id.in_(message_ids)


def about_deliveries(document_id: str, message_ids: Sequence[str]):
    """The condition on events of the records about these deliveries of documents with
    DocumentId ``document_id``."""
    return (about_document(document_id) & events.c.message_id.in_(message_ids)) | unfiled(
        message_ids
    )


evidence_head = Table(
    "evidence_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("record_hash", String(64), nullable=False),
)
"""One row: the chain's last sequence number and hash. Appends lock it, so the chain
never forks."""

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False, index=True),
    Column("head_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("signature", Text, nullable=False),
)

agency_usage = Table(
    "agency_usage",
    metadata,
    Column("agency", String(35), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("documents", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Index(None, "day"),
)
"""What each agency sent per day (Vietnam time), counted as documents are accepted, so
that the daily quota is one row to read, however much an agency sends. The index by day
lets a purge forget the oldest days a batch at a time."""

nonces = Table(
    "nonces",
    metadata,
    # Keyed by when they expire first, so that one b-tree serves both the check for a
    # replay and the deletion of the expired, and a sign-in adds to its last pages.
    Column("expires_at", UTCDateTime, primary_key=True),
    Column("agency", String(35), primary_key=True),
    Column("nonce", String(100), primary_key=True),
    # On SQLite the rows live in their key's b-tree: each sign-in writes one page fewer.
    sqlite_with_rowid=False,
)
"""The nonces of the UsernameTokens signed in with, each until its token's Created time
plus the clock skew allowed, after which the token is refused anyway: a replayed token
repeats its nonce and Created time, and so the key."""

operators = Table(
    "operators",
    metadata,
    Column("name", Unicode(100), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=lambda: datetime.now(UTC)),
    *sign_in_lock_columns(),
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("operator", Unicode(100), ForeignKey("operators.name"), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)
"""Dashboard sign-ins, by the SHA-256 of the cookie's token (the token itself is not kept)."""
