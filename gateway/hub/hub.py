"""The hub's use cases, each one transaction: authenticate, send, fetch, acknowledge."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from gateway.envelope import parse_message
from gateway.errors import (
    AuthenticationFailed,
    Busy,
    Duplicate,
    GatewayError,
    InvalidRequest,
    TooLarge,
    Unavailable,
    UnknownDocument,
)
from gateway.hub import sending, timeline
from gateway.hub.authentication import (
    PasswordCache,
    SignInLockout,
    WrongCredentials,
    check_token,
    comes_from,
)
from gateway.hub.forwarding import ForwardQueue
from gateway.hub.model import (
    PARENT_INBOX,
    AckResult,
    Backlog,
    InboxMessage,
    OriginalDocument,
    SendResult,
    SendStatus,
    Stale,
    Trace,
)
from gateway.hub.overview import Overview, overview
from gateway.hub.ports import DuplicateKey, UnitOfWork
from gateway.hub.quotas import check_quota, day_of
from gateway.hub.signing import SignatureChecks
from gateway.hub.statistics import AgencyStatistics, agency_statistics
from gateway.security.evidence import CheckpointSigner
from gateway.security.secretbox import SecretBox
from gateway.security.wsse import UsernameToken
from gateway.settings import Settings

DEFAULT_FETCH = 10
MAX_ACK_IDS = 1000
MAX_TRACED = 20
"""Documents of different senders an operator's search by DocumentId shows at most."""
NONCE_PURGE_INTERVAL = timedelta(seconds=1)
"""How often a sign-in also deletes the expired nonces: often, so that each time deletes
few (a minute's worth at a thousand requests a second held the others for 150 ms)."""
PURGE_KEYS = 1000
"""Documents a purge looks at, or day counts it forgets, in one transaction."""
PURGE_BYTES = 256 * 2**20
"""Bytes a purge deletes in one transaction, past the first document."""

Caller = str | UsernameToken
"""Who calls an operation: an agency's code (already authenticated), or a request's
UsernameToken, checked inside the operation's own transaction, so that a request reads
the agency once and commits once, its nonce with its changes."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _guards_a_replay(caller: Caller) -> bool:
    """Whether ``caller``'s nonce is all that refuses a replay of its request: that of a
    PasswordDigest. (A request with the password in it gives the password away anyway.)"""
    return isinstance(caller, UsernameToken) and caller.digest and caller.nonce is not None


def _timeline(uow: UnitOfWork, document: OriginalDocument) -> SendStatus:
    """``document``'s delivery timeline, from the events recorded for its deliveries."""
    events = uow.messages.events_for(
        document.document_id, [d.message_id for d in document.deliveries]
    )
    return timeline.assemble(document, events)


class Hub:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        settings: Settings,
        *,
        reading: Callable[[], UnitOfWork] | None = None,
        clock: Callable[[], datetime] = utcnow,
        secret_box: SecretBox | None = None,
        signer: CheckpointSigner | None = None,
        ca_bundle: bytes | None = None,
    ):
        self._uow = uow_factory
        self._read = reading or uow_factory
        """Units of work that only read: the reports, which may read much."""
        self._settings = settings
        self._clock = clock
        self._secret_box = secret_box
        self._signer = signer
        self._signatures = SignatureChecks(settings, ca_bundle)
        self._passwords = PasswordCache()
        self._lockout = SignInLockout(settings)
        self._next_nonce_purge = datetime.min.replace(tzinfo=UTC)
        self._topology = sending.Topology(
            inbox_of=settings.inbox, has_parent=bool(settings.parent_url)
        )
        self.forwards = ForwardQueue(uow_factory, settings, clock)
        """Deliveries waiting to be forwarded to the parent hub."""

    def authenticate(self, token: UsernameToken) -> str:
        """The code of the agency ``token`` proves to be, its nonce (if any) recorded;
        AuthenticationFailed otherwise."""
        with self._uow() as uow:
            agency = self._sign_in(uow, token)
            uow.commit()
        return agency

    def _sign_in(self, uow, caller: Caller) -> str:
        """The caller's agency code; a token is checked, and its nonce recorded, in this
        transaction (AuthenticationFailed otherwise)."""
        if isinstance(caller, str):
            return caller
        now = self._clock()
        skew = timedelta(seconds=self._settings.clock_skew_seconds)
        agency = uow.agencies.get(caller.username)
        if agency is not None and agency.networks and not comes_from(agency, caller):
            raise AuthenticationFailed()  # before the password: nothing to guess, or to lock
        if agency is not None and agency.locked(now):
            raise AuthenticationFailed()  # whatever the password: no guessing meanwhile
        try:
            check_token(
                caller, agency, now=now, skew=skew, secret_box=self._secret_box,
                passwords=self._passwords,
            )  # fmt: skip
        except WrongCredentials:
            # Committed now: the transaction has only read so far, and the request is refused.
            self._lockout.count_failure(uow.agencies, agency.code, now, f"Agency {agency.code}")
            uow.commit(durable=False)
            raise
        if agency.failed_sign_ins:
            uow.agencies.clear_failed_sign_ins(agency.code)
        if caller.nonce is not None:
            if now >= self._next_nonce_purge:
                self._next_nonce_purge = now + NONCE_PURGE_INTERVAL
                uow.nonces.purge(now)
            if not uow.nonces.remember(agency.code, caller.nonce, caller.created + skew):
                raise AuthenticationFailed()  # a replayed nonce
        return agency.code

    def send(self, caller: Caller, content: bytes) -> SendResult:
        """Accept an edXML message: stored once, one delivery per recipient."""
        try:
            message = self._parse(content)
        except GatewayError as error:
            self._record_refusal(caller, "", sending.sha256_of(content), error)
            raise
        sha256 = sending.sha256_of(content)
        key = sending.idempotency_key(message, sha256)
        ahead = (
            self._signatures.ahead(message, content, self._clock())
            if self._vouched(caller)
            else None  # a stranger's signature is verified only once it has signed in
        )
        try:
            return self._store(caller, message, content, sha256, key, ahead)
        except GatewayError as error:
            self._record_refusal(caller, message.document_id, sha256, error)
            raise
        except DuplicateKey:
            result = self._stored_meanwhile(caller, message, sha256, key)
            if result is None:
                raise  # the collision was not with a stored document: a fault of ours
            return result

    def _vouched(self, caller: Caller) -> bool:
        """Whether the caller is known to be who it says before its transaction signs
        it in: an agency's code, or the password that verified for it last."""
        if isinstance(caller, str):
            return True
        return not caller.digest and self._passwords.vouches_for(caller.username, caller.password)

    def _stored_meanwhile(self, caller, message, sha256: str, key: str) -> SendResult | None:
        """The answer to a message whose key was stored already, by an earlier send of it
        or by another request just now: that send's result, or Duplicate if it stored
        other bytes; None if nothing is stored under the key."""
        try:
            with self._uow() as uow:
                self._sign_in(uow, caller)
                result = sending.previous_result(uow, message.sender.code, key, sha256)
                uow.commit()
        except GatewayError as error:
            self._record_refusal(caller, message.document_id, sha256, error)
            raise
        return result

    def _parse(self, content: bytes):
        settings = self._settings
        if len(content) > settings.max_document_bytes:
            raise TooLarge(
                f"The document is {len(content)} bytes; at most "
                f"{settings.max_document_bytes} are accepted."
            )
        return parse_message(
            content, max_bytes=settings.max_document_bytes, max_depth=settings.max_xml_depth
        )

    def _store(self, caller, message, content, sha256, key, ahead) -> SendResult:
        now = self._clock()
        with self._uow() as uow:
            # The caller, the sender and the recipients, read in one query.
            caller_code = caller if isinstance(caller, str) else caller.username
            uow.agencies.get_many((caller_code, message.sender.code, *message.recipient_codes))
            agency = self._sign_in(uow, caller)
            routing = sending.route(
                uow, agency, message, self._settings.max_recipients, self._topology
            )
            sender_code = message.sender.code
            sender = uow.agencies.get(sender_code)
            try:
                check_quota(uow, sender, len(content), now, self._settings)
                signature = "none"
                if sender_code == agency or sender.certificate:
                    # A child hub vouches for the agencies behind it; their signatures are
                    # checked here only when this hub holds their certificate too.
                    signature = self._signatures.mark(sender, message, content, now, ahead)
            except GatewayError:
                if uow.messages.find(sender_code, key) is not None:
                    raise DuplicateKey(key) from None  # a retry, answered as the first time
                raise
            # DuplicateKey if the message was stored before: a retry is told its first
            # answer, found only then, so that a first send looks nothing up.
            document = self._add_document(
                uow, agency, message, content, sha256, key, routing, signature, now
            )
            uow.commit()
        return SendResult(document.document_id, document.received_at, document.deliveries)

    def _add_document(self, uow, agency, message, content, sha256, key, routing, signature, now):
        withdrawn = uow.messages.withdraw(sending.withdrawable(routing), now)
        withdrawn_recipients = (
            {d.recipient for d in routing.original.deliveries if d.message_id in withdrawn}
            if withdrawn
            else set()
        )
        document = sending.new_document(
            message, content, sha256, key, routing, withdrawn_recipients, now, signature
        )
        uow.messages.add(document)
        self._record_send(uow, agency, message, document, routing, withdrawn)
        self._checkpoint_if_due(uow, now)
        return document

    def receive_from_parent(
        self, content: bytes, recipient: str, signature: str = "none"
    ) -> SendResult:
        """Store a message the parent hub delivered for ``recipient`` (an agency this hub
        serves), once: the same document for another recipient adds a delivery."""
        sha256 = sending.sha256_of(content)
        now = self._clock()
        try:
            message = self._parse(content)
            key = sending.idempotency_key(message, sha256)
            arguments = (message, content, sha256, key, recipient, signature, now)
            try:
                return self._receive_from_parent(*arguments)
            except DuplicateKey:  # another worker stored it for another recipient just now
                return self._receive_from_parent(*arguments)
        except GatewayError as error:
            self._record_refusal(PARENT_INBOX, "", sha256, error)
            raise

    def _receive_from_parent(self, message, content, sha256, key, recipient, signature, now):
        sender = message.sender.code
        with self._uow() as uow:
            routing = sending.route_from_parent(uow, message, recipient, self._topology)
            stored = uow.messages.find(sender, key)
            if stored is None:
                document = self._add_document(
                    uow, sender, message, content, sha256, key, routing, signature, now
                )
                uow.commit()
                return SendResult(document.document_id, now, document.deliveries)
            if stored.sha256 != sha256:
                raise Duplicate("The parent hub delivered different bytes for this DocumentId.")
            known = {d.recipient for d in stored.result.deliveries}
            added = sending.new_deliveries(
                routing, tuple(c for c in routing.recipients if c not in known), set()
            )
            uow.messages.add_deliveries(stored.pk, added, now)
            for delivery in added:
                uow.events.record(
                    "received", now, sender, document_id=message.document_id,
                    message_id=delivery.message_id, detail=f"to {delivery.recipient}",
                    content_sha256=sha256,
                )  # fmt: skip
            uow.commit()
        return SendResult(stored.result.document_id, stored.result.received_at,
                          stored.result.deliveries + added)  # fmt: skip

    @staticmethod
    def _record_send(uow, agency, message, document, routing, withdrawn: set[str]) -> None:
        """Events for the new deliveries, and on the timeline of the document it concerns."""
        at = document.received_at
        records = [
            dict(
                kind="received",
                at=at,
                agency=agency,
                document_id=document.document_id,
                message_id=delivery.message_id,
                detail=f"to {delivery.recipient}",
                content_sha256=document.sha256,
            )
            for delivery in document.deliveries
        ]
        event = sending.related_event(message)
        for original in routing.original.deliveries if routing.original and event else ():
            if original.message_id in withdrawn:
                kind = "withdrawn"
            elif original.recipient in routing.recipients or event == "status":
                kind = event
            else:
                continue
            records.append(dict(
                kind=kind, at=at, agency=agency, document_id=routing.original.document_id,
                message_id=original.message_id, status_code=message.status_code,
                detail=message.status_description or message.subject,
                content_sha256=document.sha256,
            ))  # fmt: skip
        uow.events.record_all(records)

    def _record_refusal(self, caller: Caller, document_id: str, sha256: str, error) -> None:
        """Refusals of an authenticated agency are evidence too (nothing else is stored).

        A token is checked first, so a stranger learns nothing of why its document would
        be refused, and leaves no evidence."""
        if isinstance(error, (Unavailable, Busy, AuthenticationFailed)):
            # No database to write to, no room, or not the agency: only real refusals
            # are evidence.
            return
        with self._uow() as uow:
            agency = self._sign_in(uow, caller)
            uow.events.record(
                "refused", self._clock(), agency, document_id=document_id,
                detail=f"{error.code}: {error.message}", content_sha256=sha256,
            )  # fmt: skip
            uow.commit()

    def _checkpoint_if_due(self, uow, now: datetime) -> None:
        if self._signer is None:
            return
        last = uow.events.last_checkpoint_at()
        interval = timedelta(seconds=self._settings.checkpoint_interval_seconds)
        if last is None or now - last >= interval:
            uow.events.checkpoint(self._signer, now)

    def fetch(
        self, caller: Caller, max_count: int | None, *, content_up_to: int | None = None
    ) -> list[InboxMessage]:
        """Lease the agency's oldest pending messages for the configured lease time.

        With ``content_up_to``, only documents up to that many bytes come with their
        bytes; the others are read piece by piece with ``read_document``."""
        limit = DEFAULT_FETCH if max_count is None else max_count
        now = self._clock()
        until = now + timedelta(seconds=self._settings.lease_seconds)
        with self._uow() as uow:
            agency = self._sign_in(uow, caller)
            if not 1 <= limit <= self._settings.max_fetch:
                raise InvalidRequest(f"MaxCount must be between 1 and {self._settings.max_fetch}.")
            messages = list(uow.messages.lease(agency, now, until, limit, content_up_to))
            uow.events.record_all([
                dict(kind="leased", at=now, agency=agency, document_id=message.document_id,
                     message_id=message.message_id)
                for message in messages
            ])  # fmt: skip
            # A lease a power loss undoes only ends early: the messages are leased again.
            # A digest's nonce is what refuses a replay of the request, so it is kept.
            uow.commit(durable=_guards_a_replay(caller))
        return messages

    def read_document(self, message: InboxMessage) -> Iterator[bytes]:
        """The bytes of a leased message's document, piece by piece, each piece read in a
        short transaction of its own (a leased document is never purged); those it came
        with, if it did."""
        if message.content:
            yield message.content
            return
        remaining = message.size
        for seq in itertools.count():
            with self._read() as uow:
                piece = uow.messages.chunk(message.document_key, seq)
            if piece is None:
                return
            yield piece
            remaining -= len(piece)
            if message.size and remaining <= 0:
                return  # the last piece: no need to ask for one more

    def send_status(self, agency: str, document_id: str) -> SendStatus:
        """The delivery timeline of a document: every recipient's for its sender, else own."""
        with self._read() as uow:
            document = uow.messages.sent_original(agency, document_id)
            if document is None:
                document = uow.messages.received_original(agency, document_id)
            if document is None:
                raise UnknownDocument(
                    f"This agency neither sent nor received a document {document_id!r}."
                )
            return _timeline(uow, document)

    def trace(self, document_id: str, sender: str | None = None) -> Trace:
        """For the operator: the timeline of each document sent with this DocumentId (by
        ``sender`` only, if given), the latest sender's first."""
        with self._read() as uow:
            asked = [sender] if sender else uow.messages.senders_of(document_id, MAX_TRACED)
            found = (uow.messages.sent_original(code, document_id) for code in asked)
            documents = tuple(_timeline(uow, document) for document in found if document)
            named = {d.sender for d in documents} | {
                r.recipient for d in documents for r in d.recipients
            }
            return Trace(documents, uow.agencies.names(named))

    def acknowledge(self, caller: Caller, message_ids: Sequence[str]) -> AckResult:
        """Mark the agency's messages done; ids that are not its own are Unknown."""
        ids = list(dict.fromkeys(i.strip() for i in message_ids if i and i.strip()))
        now = self._clock()
        with self._uow() as uow:
            agency = self._sign_in(uow, caller)
            if len(ids) > MAX_ACK_IDS:
                raise InvalidRequest(
                    f"At most {MAX_ACK_IDS} MessageIds may be acknowledged at once."
                )
            found = uow.messages.acknowledge(agency, ids, now)
            uow.events.record_all([
                dict(kind="acknowledged", at=now, agency=agency, message_id=message_id,
                     document_id=found[message_id].document_id,
                     content_sha256=found[message_id].sha256)
                for message_id in ids
                if message_id in found and found[message_id].first
            ])  # fmt: skip
            if found:
                self._checkpoint_if_due(uow, now)
            uow.commit()
        return AckResult(len(found), tuple(i for i in ids if i not in found))

    def statistics(
        self,
        agency: str,
        since: datetime | None = None,
        until: datetime | None = None,
        stale_hours: int = 24,
    ) -> AgencyStatistics:
        """An agency's own figures between ``since`` (default: 30 days ago) and ``until``."""
        now = self._clock()
        until = until or now
        since = since or until - timedelta(days=30)
        if since >= until:
            raise InvalidRequest("From must be before To.")
        with self._read() as uow:
            return agency_statistics(uow, agency, since, until, now, stale_hours)

    def backlog(self) -> list[Backlog]:
        """Open deliveries per recipient, with the oldest one's age."""
        with self._read() as uow:
            return list(uow.traffic.backlog())

    def locked_sign_ins(self) -> dict[str, int]:
        """How many agencies and operators are locked out now, after wrong passwords."""
        now = self._clock()
        with self._read() as uow:
            return {
                "agency": len(uow.agencies.locked(now)),
                "operator": len(uow.operators.locked(now)),
            }

    def active_agencies(self, since: datetime, until: datetime) -> list[str]:
        """The agencies with a figure in the period, by code: they sent, were sent or were
        refused something then, or have messages waiting."""
        with self._read() as uow:
            active = uow.traffic.agencies_active(since, until)
            return sorted(active | uow.events.agencies_with("refused", since, until))

    def not_picked_up(self, hours: int) -> list[Stale]:
        """Deliveries nobody has fetched for ``hours``, oldest first."""
        with self._read() as uow:
            return list(uow.traffic.stale(self._clock() - timedelta(hours=hours)))

    def overview(self, stale_hours: int = 24) -> Overview:
        """Everything the operator's dashboard shows, read in one transaction."""
        with self._read() as uow:
            return overview(uow, self._clock(), self._settings, stale_hours=stale_hours)

    def purge(self, days: int | None = None) -> int:
        """Delete the bytes of documents closed at every recipient and older than ``days``
        (default: the retention setting). Their rows, timeline and evidence stay.

        The documents are taken a range of keys at a time, each range in a transaction of
        its own, and then the day counts past the retention a thousand at a time, so that
        requests go on between them however much there is to purge."""
        days = self._settings.retention_days if days is None else days
        now = self._clock()
        before = now - timedelta(days=days)
        purged, after = 0, 0
        while after is not None:
            with self._uow() as uow:
                count, after = uow.messages.purge_contents(before, after, PURGE_KEYS, PURGE_BYTES)
                purged += count
                if count or (after is None and not purged):  # a purge of nothing says so
                    detail = f"{count} documents, {days} days"
                    uow.events.record("purged", now, "hub", detail=detail)
                uow.commit()
        forgotten = PURGE_KEYS
        while forgotten == PURGE_KEYS:  # the day counts older than the retention
            with self._uow() as uow:
                forgotten = uow.usage.forget_before(day_of(before), PURGE_KEYS)
                uow.commit()
        return purged

    def healthy(self) -> bool:
        """Whether the database answers."""
        try:
            with self._uow() as uow:
                uow.agencies.get("")
        except Unavailable:
            return False
        return True

    def checkpoint(self) -> dict:
        """Sign the evidence chain's head now."""
        if self._signer is None:
            raise ValueError("no hub signing key: set LIENTHONG_HUB_SIGNING_KEY")
        with self._uow() as uow:
            checkpoint = uow.events.checkpoint(self._signer, self._clock())
            uow.commit()
        return checkpoint
