"""Back-pressure end to end: one agency's burst gets Busy, others go on, the connector waits."""

import pytest

from client.connector import Connector
from client.errors import HubFault
from tests.builders import G12, H31, H49, document
from tests.hubprocess import start_hub, stop_hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quota")
    running = start_hub(
        tmp, f"sqlite:///{tmp / 'hub.db'}", quota_per_minute=3, quota_window_seconds=3
    )
    yield running
    stop_hub(running)


def test_a_burst_is_busy_while_another_agency_keeps_sending(hub):
    burst = Connector(hub.url, G12, hub.passwords[G12], retry_for=0)
    other = Connector(hub.url, H31, hub.passwords[H31], retry_for=0)
    outcomes = []
    for n in range(6):
        try:
            burst.send(document(document_id=f"G12,burst,{n}"))
            outcomes.append("ok")
        except HubFault as fault:
            outcomes.append(fault.code)
            assert 1 <= fault.retry_after <= 3
        if n % 2 == 0:  # within its own limit of 3
            other.send(document(sender=H31, recipients=(H49,), document_id=f"H31,{n}"))
    assert outcomes[:3] == ["ok"] * 3
    assert "Server.Busy" in outcomes[3:]


def test_the_connector_rides_through_busy_to_success(hub):
    waits = []
    patient = Connector(
        hub.url, G12, hub.passwords[G12], retry_for=30,
        on_retry=lambda error, delay: waits.append((error.code, delay)),
    )  # fmt: skip
    for n in range(5):
        patient.send(document(document_id=f"G12,patient,{n}"))
    assert waits and all(code == "Server.Busy" for code, _ in waits)
    assert all(delay >= 1 for _, delay in waits)
