"""The link to a parent hub: forward what no agency here can receive, and collect what
the parent holds for the agencies this hub serves.

This hub is an agency of its parent and talks to it through the same connector an
agency's system uses. Both directions are at least once, and idempotent at the far
end: a document sent twice is stored once, and one collected twice is delivered once.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from client.connector import PACKAGED_WSDL, RETRYABLE, Connector
from client.errors import HubFault, HubUnreachable
from gateway.errors import Busy, GatewayError, Unavailable
from gateway.hub.hub import Hub
from gateway.hub.model import InboxMessage
from gateway.settings import Settings

log = logging.getLogger("gateway.upstream")

BATCH = 20
MAX_RETRY_SECONDS = 300


class ParentLink:
    """Moves messages between this hub and its parent, one ``step`` at a time."""

    def __init__(
        self,
        hub: Hub,
        settings: Settings,
        *,
        connect: Callable[[], Connector] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._hub = hub
        self._settings = settings
        self._clock = clock
        self._parent = (connect or (lambda: parent_connector(settings)))()

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set, pausing whenever there was nothing to move."""
        while not stop.is_set():
            try:
                moved = self.step()
            except Exception:
                log.exception("the link to the parent hub failed; trying again")
                moved = 0
            if not moved:
                stop.wait(self._settings.parent_poll_seconds)

    def step(self) -> int:
        """Forward one batch and collect one batch; return how many messages moved."""
        return self.forward() + self.collect()

    def forward(self) -> int:
        """Send the parent what waits for it: each document once, for all its recipients."""
        messages = self._hub.forwards.lease(BATCH)
        documents: dict[tuple[str, str], list[InboxMessage]] = {}
        for message in messages:
            documents.setdefault((message.sender, message.sha256), []).append(message)
        for deliveries in documents.values():
            self._forward(deliveries)
        return len(messages)

    def _forward(self, deliveries: list[InboxMessage]) -> None:
        try:
            receipt = self._parent.send(deliveries[0].content)
        except HubFault as fault:
            if fault.code not in RETRYABLE:
                self._hub.forwards.failed(deliveries, f"the parent hub refused it: {fault}")
                return
            self._retry_later(deliveries, fault)
        except HubUnreachable as error:
            self._retry_later(deliveries, error)
        else:
            answers = {d.recipient: d.message_id for d in receipt.deliveries}
            taken = [d for d in deliveries if d.recipient in answers]
            left_out = [d for d in deliveries if d.recipient not in answers]
            if taken:
                self._hub.forwards.forwarded(taken, answers)
            if left_out:  # the parent serves no such agency
                self._hub.forwards.failed(left_out, "the parent hub does not serve it")

    def _retry_later(self, deliveries: list[InboxMessage], error: Exception) -> None:
        waited = (self._clock() - deliveries[0].received_at).total_seconds()
        give_up = self._settings.parent_give_up_seconds
        if waited >= give_up:
            self._hub.forwards.failed(
                deliveries, f"the parent hub could not take it for {give_up} seconds: {error}"
            )
            return
        attempt = max(d.attempt for d in deliveries)
        delay = min(MAX_RETRY_SECONDS, self._settings.parent_poll_seconds * 2 ** (attempt - 1))
        log.warning("the parent hub did not take %s (%s); again in %.0f s",
                    deliveries[0].document_id, error, delay)  # fmt: skip
        self._hub.forwards.later(deliveries, delay * random.uniform(0.5, 1.0))

    def collect(self) -> int:
        """Store what the parent holds for the agencies here, then acknowledge it there."""
        try:
            messages = self._parent.fetch(BATCH)
        except (HubFault, HubUnreachable) as error:
            log.warning("cannot collect from the parent hub: %s", error)
            return 0
        done = []
        for message in messages:
            try:
                self._hub.receive_from_parent(message.content, message.recipient, message.signature)
            except (Busy, Unavailable):
                continue  # not acknowledged: the parent offers it again
            except GatewayError as error:
                log.error("refused message %s from the parent hub: %s",
                          message.message_id, error)  # fmt: skip
            done.append(message.message_id)
        if done:
            self._parent.ack(done)
        return len(messages)


def parent_connector(settings: Settings) -> Connector:
    """A connector to the parent hub, as this hub's agency there; it retries nothing
    itself, since the link retries on its own schedule."""
    return Connector(
        settings.parent_url,
        settings.parent_agency,
        settings.parent_password,
        wsdl=PACKAGED_WSDL,
        retry_for=0,
    )


def start_parent_link(hub: Hub, settings: Settings) -> threading.Event:
    """Run the link in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    link = ParentLink(hub, settings)
    threading.Thread(target=link.run, args=(stop,), name="parent-link", daemon=True).start()
    return stop
