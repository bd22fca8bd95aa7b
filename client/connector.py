"""The connector: what an agency's system uses to talk to the hub through its WSDL."""

from __future__ import annotations

import itertools
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from pathlib import Path

import requests
import zeep
import zeep.helpers
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from client.compression import CompressingTransport
from client.errors import HubFault, HubUnreachable
from client.wsse import FreshUsernameToken
from gateway import ns
from gateway.envelope import parse_message
from gateway.envelope.build import build_status
from gateway.envelope.model import Organ, ResponseFor
from gateway.errors import GatewayError
from gateway.security.signatures import sign_edxml, verify_edxml

log = logging.getLogger("client")

RETRYABLE = ("Server.Busy", "Server.Unavailable")
PACKAGED_WSDL = str(resources.files("gateway.wsdl").joinpath("lienthong.wsdl"))
"""The contract shipped with this package: a connector built on it needs no network to start."""
BACKOFF = 0.5
MAX_BACKOFF = 30.0
AGENCIES_PAGE = 1000
"""Agencies asked for per GetAgencies: the national directory is over 100,000."""


@dataclass(frozen=True)
class Delivery:
    recipient: str
    message_id: str
    state: str


@dataclass(frozen=True)
class Receipt:
    """The hub's answer to a send: the document's id, when, and one delivery per recipient."""

    document_id: str
    received_at: datetime
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class Message:
    """A message fetched from the hub: an edXML document or status message, byte-exact."""

    message_id: str
    document_id: str
    sender: str
    kind: str
    received_at: datetime
    content: bytes
    signature: str = "none"
    """The hub's finding: none, valid, or weak (SHA-1 admitted by the hub's settings)."""
    recipient: str = ""
    """The agency it is for: this one, or one behind this agency when it is a hub."""
    verification: str = ""
    """Set by ``fetch(verify=True)``: valid, weak, unsigned, or ``invalid: <reason>``."""


@dataclass(frozen=True)
class AckOutcome:
    acknowledged: int
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    event: str
    status_code: str = ""
    description: str = ""


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    message_id: str
    transport_state: str
    latest_status_code: str
    latest_status_description: str
    latest_status_at: datetime | None
    events: tuple[TimelineEvent, ...]


@dataclass(frozen=True)
class SendStatus:
    document_id: str
    sender: str
    received_at: datetime
    recipients: tuple[RecipientStatus, ...]


@dataclass(frozen=True)
class AgencyEntry:
    code: str
    name: str
    parent_code: str
    active: bool
    endpoint: str = ""
    """The SOAP address of the agency's own inbox, if it publishes one."""


class Connector:
    """A client of one hub, authenticated as one agency.

    ``url`` is the hub's SOAP address; its WSDL is read from ``url?wsdl`` unless
    ``wsdl`` names another copy (such as the ``wsdl/`` folder of this package).
    """

    def __init__(
        self,
        url: str,
        agency: str,
        password: str,
        *,
        use_digest: bool = False,
        wsdl: str | None = None,
        timeout: float = 60,
        key: bytes | None = None,
        cert: bytes | None = None,
        retry_for: float = 60,
        on_retry: Callable[[Exception, float], None] | None = None,
        compress: bool = False,
    ):
        """``key`` and ``cert`` (PEM): sign every document sent with the agency's key.

        ``compress``: send large requests gzip-compressed (a hub of this software
        inflates them; other services may not).

        A busy or unreachable hub is retried with exponential backoff and jitter (at least
        the hub's RetryAfter) for up to ``retry_for`` seconds; ``on_retry(error, delay)``
        hears of each wait.
        """
        if (key is None) != (cert is None):
            raise ValueError("signing needs both a key and a certificate")
        self.agency = agency
        self._key, self._cert = key, cert
        self._retry_for = retry_for
        self._on_retry = on_retry or _log_retry
        self._certificates: dict[str, str | None] = {}
        session = requests.Session()
        transport_class = CompressingTransport if compress else Transport
        transport = transport_class(session=session, timeout=timeout, operation_timeout=timeout)
        settings = zeep.Settings(xml_huge_tree=True, strict=True)
        try:
            client = zeep.Client(
                wsdl or f"{url}?wsdl",
                transport=transport,
                settings=settings,
                wsse=FreshUsernameToken(agency, password, use_digest=use_digest),
            )
        except (requests.RequestException, TransportError) as exc:
            raise HubUnreachable(f"cannot read the hub's WSDL: {exc}") from exc
        binding = next(iter(client.wsdl.bindings))
        self._service = client.create_service(binding, url)

    def send(self, document: bytes) -> Receipt:
        """Send edXML bytes (a document or a status message), signed first if a key is set."""
        if self._key is not None:
            document = sign_edxml(document, self._key, self._cert)
        result = self._call("SendDocument", Document=document)
        return Receipt(
            document_id=result.DocumentId,
            received_at=result.ReceivedAt,
            deliveries=tuple(
                Delivery(d.Recipient, d.MessageId, d.State) for d in result.Deliveries or []
            ),
        )

    def fetch(self, max_count: int = 10, *, verify: bool = False) -> list[Message]:
        """Lease up to ``max_count`` pending messages; acknowledge them once handled.

        With ``verify``, each signed message is checked against its sender's certificate
        (from the hub's directory) and the outcome is in ``Message.verification``.
        """
        documents = self._call("GetDocuments", MaxCount=max_count) or []
        messages = [
            Message(
                message_id=d.MessageId,
                document_id=d.DocumentId,
                sender=d.Sender,
                kind=d.Kind,
                received_at=d.ReceivedAt,
                content=d.Document,
                signature=d.Signature or "none",
                recipient=d.Recipient or self.agency,
            )
            for d in documents
        ]
        if verify:
            messages = [replace(m, verification=self._verification(m)) for m in messages]
        return messages

    def certificate(self, agency: str) -> str | None:
        """The PEM certificate the hub holds for ``agency`` (cached), or None."""
        if agency not in self._certificates:
            self._certificates[agency] = self._call("GetAgencyCertificate", Code=agency)
        return self._certificates[agency]

    def _verification(self, message: Message) -> str:
        try:
            signed = parse_message(message.content, max_bytes=len(message.content) + 1)
        except GatewayError as error:
            return f"invalid: {error.message}"
        if not signed.has_xml_signature:
            return "unsigned"
        certificate = self.certificate(message.sender)
        if not certificate:
            return "invalid: the hub holds no certificate for the sender"
        try:
            verified = verify_edxml(message.content, certificate, allow_sha1=True)
        except GatewayError as error:
            return f"invalid: {error.message}"
        return "weak" if verified.weak else "valid"

    def ack(self, message_ids: Iterable[str]) -> AckOutcome:
        result = self._call("AckDocument", MessageIds=list(message_ids))
        return AckOutcome(result.Acknowledged, tuple(result.Unknown or ()))

    def status(self, document_id: str) -> SendStatus:
        """The document's delivery timeline (all recipients for its sender, else own row)."""
        result = self._call("GetSendStatus", DocumentId=document_id)
        return SendStatus(
            document_id=result.DocumentId,
            sender=result.Sender,
            received_at=result.ReceivedAt,
            recipients=tuple(
                RecipientStatus(
                    recipient=row.Recipient,
                    message_id=row.MessageId,
                    transport_state=row.TransportState,
                    latest_status_code=row.LatestStatusCode or "",
                    latest_status_description=row.LatestStatusDescription or "",
                    latest_status_at=row.LatestStatusAt,
                    events=tuple(
                        TimelineEvent(e.At, e.Event, e.StatusCode or "", e.Description or "")
                        for e in row.Events or []
                    ),
                )
                for row in result.Recipients or []
            ),
        )

    def send_status(
        self,
        document_id: str,
        code: str,
        description: str = "",
        *,
        staff: str = "",
        department: str = "",
    ) -> Receipt:
        """Send a status message about a document: 01-06, 15, 16 as its recipient, 13 as
        its sender (take it back)."""
        original_sender = self.agency if code == "13" else self.status(document_id).sender
        message = build_status(
            sender=Organ(self.agency),
            response_for=ResponseFor(original_sender, document_id),
            status_code=code,
            description=description,
            staff=staff,
            department=department,
        )
        return self.send(message)

    def statistics(self, since: datetime | None = None, until: datetime | None = None) -> dict:
        """This agency's own figures (GetStatistics), as plain data."""
        result = self._call("GetStatistics", From=since, To=until)
        return zeep.helpers.serialize_object(result, dict)

    def agencies(self, parent_code: str | None = None) -> list[AgencyEntry]:
        """The hub's agency directory by code, or the direct children of ``parent_code``,
        asked for AGENCIES_PAGE at a time."""
        listed: list[AgencyEntry] = []
        after = None
        while True:
            page = self._call(
                "GetAgencies", ParentCode=parent_code, After=after, MaxCount=AGENCIES_PAGE
            ) or []  # fmt: skip
            listed += (
                AgencyEntry(e.Code, e.Name, e.ParentCode or "", bool(e.Active), e.Endpoint or "")
                for e in page
            )
            if len(page) < AGENCIES_PAGE:
                return listed
            after = page[-1].Code

    def receive(
        self,
        handler: Callable[[Message], None],
        *,
        max_count: int = 10,
        poll_interval: float | None = None,
        stop: threading.Event | None = None,
        verify: bool = False,
    ) -> int:
        """Hand every pending message to ``handler``; acknowledge each one it accepted.

        A message whose handler raises is not acknowledged: the hub offers it again
        when its lease ends. Returns when the inbox is empty, or, with
        ``poll_interval``, keeps polling until ``stop`` is set.
        """
        stop = stop or threading.Event()
        handled = 0
        while not stop.is_set():
            messages = self.fetch(max_count, verify=verify)
            done = []
            for message in messages:
                try:
                    handler(message)
                except Exception:
                    log.exception(
                        "handler failed for message %s; not acknowledged", message.message_id
                    )
                    continue
                done.append(message.message_id)
            if done:
                self.ack(done)
                handled += len(done)
            if not messages:
                if poll_interval is None:
                    break
                stop.wait(poll_interval)
        return handled

    def _call(self, operation: str, **arguments):
        """Call the hub, riding out Busy, Unavailable and lost connections until the deadline.

        Every operation may be repeated: sends are idempotent, a repeated fetch only
        leases more, and acknowledgements are idempotent.
        """
        deadline = time.monotonic() + self._retry_for
        for attempt in itertools.count():
            try:
                return self._call_once(operation, **arguments)
            except (HubFault, HubUnreachable) as error:
                if isinstance(error, HubFault) and error.code not in RETRYABLE:
                    raise
                delay = min(MAX_BACKOFF, BACKOFF * 2**attempt) * random.uniform(0.5, 1.0)
                if isinstance(error, HubFault) and error.retry_after:
                    delay = max(delay, error.retry_after)
                if time.monotonic() + delay > deadline:
                    raise
                self._on_retry(error, delay)
                time.sleep(delay)

    def _call_once(self, operation: str, **arguments):
        try:
            return getattr(self._service, operation)(**arguments)
        except Fault as fault:
            code = (fault.code or "").split(":", 1)[-1]
            raise HubFault(code, fault.message or "", _retry_after(fault)) from fault
        except (requests.RequestException, TransportError) as exc:
            raise HubUnreachable(str(exc)) from exc


def _retry_after(fault: Fault) -> int | None:
    if fault.detail is None:
        return None
    value = fault.detail.findtext(f".//{{{ns.GATEWAY}}}RetryAfter")
    return int(value) if value and value.strip().isdigit() else None


def _log_retry(error: Exception, delay: float) -> None:
    log.warning("%s; retrying in %.1f s", error, delay)


def folder_writer(folder: Path) -> Callable[[Message], Path]:
    """A ``receive`` handler that saves each message as ``<MessageId>.edxml``, durably."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(message: Message) -> Path:
        target = folder / f"{message.message_id}.edxml"
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".incoming-", delete=False) as out:
            out.write(message.content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(out.name, target)
        return target

    return write
