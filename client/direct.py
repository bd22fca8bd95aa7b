"""The direct model: a document goes straight to each recipient's own inbox gateway.

Every recipient gets an outbox entry first; delivery is then attempted at once and,
if the inbox cannot be reached, again later with backoff. Inboxes store a document
once however often it is sent, so a retry after a lost answer delivers it once.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from client.connector import PACKAGED_WSDL, RETRYABLE, AgencyEntry, Connector
from client.errors import ConnectorError, HubFault, HubUnreachable
from client.outbox import DELIVERED, FAILED, WAITING, Entry, Outbox
from gateway.envelope import parse_message
from gateway.errors import GatewayError
from gateway.security.signatures import sign_edxml

FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


@dataclass(frozen=True)
class InboxAddress:
    """Where a recipient's inbox answers, and the password that inbox gave this agency
    (None: the agency's own, the one it signs in to its hub with)."""

    url: str
    password: str | None = field(default=None, repr=False)


class FileDirectory:
    """Inboxes from a JSON file. Each agency code maps to its inbox's address, or to an
    object with the address and the environment variable that holds the password this
    inbox issued to the sender (so that no inbox learns the password another accepts)::

        {"000.00.00.H31": "https://vanban.hungyen.gov.vn/soap",
         "000.00.00.H49": {"url": "https://...", "password_env": "H49_INBOX_PASSWORD"}}
    """

    def __init__(self, path: Path, environ: Mapping[str, str] = os.environ):
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConnectorError(f"cannot read the directory {path}: {exc}") from exc
        if not isinstance(entries, dict):
            raise ConnectorError(f"{path} must map agency codes to inboxes")
        self._inboxes = {
            code: _inbox(path, code, entry, environ) for code, entry in entries.items()
        }

    def inbox(self, code: str) -> InboxAddress | None:
        return self._inboxes.get(code)


def _inbox(path: Path, code: str, entry, environ: Mapping[str, str]) -> InboxAddress:
    """One entry of a directory file, checked."""
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict) or not set(entry) <= {"url", "password_env"}:
        raise ConnectorError(
            f"{path}: {code} must map to an http(s) address or to "
            '{"url": ..., "password_env": ...}'
        )
    url = entry.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ConnectorError(f"{path}: the inbox of {code} needs an http(s) address")
    variable = entry.get("password_env")
    if variable is None:
        return InboxAddress(url)
    if not isinstance(variable, str):
        raise ConnectorError(f"{path}: password_env of {code} must name a variable")
    if variable not in environ:
        raise ConnectorError(
            f"{path}: the password for the inbox of {code} is read from ${variable}, "
            "which is not set"
        )
    return InboxAddress(url, environ[variable])


class HubDirectory:
    """Inbox addresses as a hub's directory publishes them (read once, when first needed);
    the sender signs in to each with its own password."""

    def __init__(self, agencies: Callable[[], list[AgencyEntry]]):
        self._agencies = agencies
        self._inboxes: dict[str, InboxAddress] | None = None

    def inbox(self, code: str) -> InboxAddress | None:
        if self._inboxes is None:
            self._inboxes = {
                a.code: InboxAddress(a.endpoint) for a in self._agencies() if a.endpoint
            }
        return self._inboxes.get(code)


@dataclass(frozen=True)
class Outcome:
    """What became of a document at one recipient: delivered, waiting (and why), failed."""

    recipient: str
    document_id: str
    state: str
    detail: str = ""


class DirectSender:
    """Sends as ``agency`` to each recipient's inbox, through ``outbox``."""

    def __init__(
        self,
        agency: str,
        password: str,
        outbox: Outbox,
        directory: FileDirectory | HubDirectory,
        *,
        key: bytes | None = None,
        cert: bytes | None = None,
        timeout: float = 60,
        clock: Callable[[], float] = time.time,
        connect: Callable[[str, str], Connector] | None = None,
        compress: bool = False,
    ):
        """``connect(url, password)`` makes the connector for an inbox (by default, a
        zeep connector on the packaged WSDL that retries nothing itself, and sends large
        requests gzip-compressed if ``compress``: inbox gateways of this software
        inflate them)."""
        self.agency = agency
        self._password = password
        self._outbox = outbox
        self._directory = directory
        self._key, self._cert = key, cert
        self._timeout = timeout
        self._clock = clock
        self._connect = connect or self._inbox_connector
        self._compress = compress
        self._connectors: dict[InboxAddress, Connector] = {}

    def send(self, document: bytes) -> list[Outcome]:
        """Queue the document for each of its recipients, then try to deliver each now."""
        if self._key is not None:
            document = sign_edxml(document, self._key, self._cert)
        try:
            message = parse_message(document, max_bytes=len(document) + 1)
        except GatewayError as error:
            raise ConnectorError(f"{error.code}: {error.message}") from error
        if message.sender.code != self.agency:
            raise ConnectorError(
                f"the document is from {message.sender.code}, not from {self.agency}"
            )
        now = self._clock()
        entries = [
            self._outbox.add(code, message.document_id, document, now)
            for code in message.recipient_codes
        ]
        return [self._attempt(entry) for entry in entries]

    def flush(self, *, everything: bool = True) -> list[Outcome]:
        """Try every waiting entry now, or with ``everything=False`` only those due."""
        entries = (
            [e for e in self._outbox.waiting() if e.state == WAITING]
            if everything
            else self._outbox.due(self._clock())
        )
        return [self._attempt(entry) for entry in entries]

    def pending(self) -> list[Entry]:
        """What the outbox holds that is not delivered."""
        return self._outbox.waiting()

    def _attempt(self, entry: Entry) -> Outcome:
        if entry.state != WAITING:
            return Outcome(entry.recipient, entry.document_id, entry.state,
                           entry.message_id or entry.last_error)  # fmt: skip
        attempts = self._outbox.counted_attempt(entry.id)
        try:
            inbox = self._directory.inbox(entry.recipient)
        except ConnectorError as error:
            return self._later(entry, attempts, f"the directory cannot be read: {error}")
        if inbox is None:
            return self._later(entry, attempts, f"no inbox address known for {entry.recipient}")
        try:
            receipt = self._connector(inbox).send(entry.content)
        except HubFault as fault:
            if fault.code in RETRYABLE:
                return self._later(entry, attempts, str(fault))
            self._outbox.failed(entry.id, str(fault))
            return Outcome(entry.recipient, entry.document_id, FAILED, str(fault))
        except HubUnreachable as error:
            return self._later(entry, attempts, f"inbox unreachable: {error}")
        message_id = next(
            (d.message_id for d in receipt.deliveries if d.recipient == entry.recipient), ""
        )
        self._outbox.delivered(entry.id, message_id)
        return Outcome(entry.recipient, entry.document_id, DELIVERED, message_id)

    def _later(self, entry: Entry, attempts: int, reason: str) -> Outcome:
        delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
        self._outbox.retry_later(entry.id, reason, self._clock() + delay * random.uniform(0.5, 1))
        return Outcome(entry.recipient, entry.document_id, WAITING, reason)

    def _connector(self, inbox: InboxAddress) -> Connector:
        if inbox not in self._connectors:
            self._connectors[inbox] = self._connect(inbox.url, inbox.password or self._password)
        return self._connectors[inbox]

    def _inbox_connector(self, url: str, password: str) -> Connector:
        return Connector(
            url, self.agency, password, wsdl=PACKAGED_WSDL, timeout=self._timeout, retry_for=0,
            compress=self._compress,
        )  # fmt: skip
