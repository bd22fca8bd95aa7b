"""An agency with networks signs in only from them, on every request path; behind a
trusted proxy, from the address its X-Forwarded-For names."""

import pytest

from tests.builders import G12, H31
from tests.wsgi import REQUEST_PATHS, envelope, hub_on_path

PASSWORD = "pw"
PROXY = "10.0.0.5"


@pytest.fixture(scope="module", params=REQUEST_PATHS)
def hub(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("networks") / "hub.db"
    with hub_on_path(request.param, path, (G12, H31), PASSWORD,
                     trusted_proxies="10.0.0.0/24") as hub:  # fmt: skip
        hub.gateway.directory.set_networks(H31, ["192.0.2.0/24"])
        yield hub


OPERATIONS = {
    "streamed": "<lt:GetDocuments/>",
    "answered by spyne": "<lt:GetStatistics/>",
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize(("peer", "forwarded", "served"), [
    ("192.0.2.8", None, True),
    ("198.51.100.1", None, False),
    (PROXY, "192.0.2.8", True),
    (PROXY, "192.0.2.8, 10.0.0.6", True),
    (PROXY, "192.0.2.8, 198.51.100.1", False),  # the client wrote the allowed address
    (PROXY, None, False),
    ("198.51.100.1", "192.0.2.8", False),  # not through a trusted proxy
])  # fmt: skip
def test_an_agency_is_served_only_from_its_networks(hub, operation, peer, forwarded, served):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    answer = hub.call(envelope(OPERATIONS[operation], H31, PASSWORD),
                      remote_addr=peer, headers=headers)  # fmt: skip
    if served:
        assert answer.status == 200, answer.body
    else:
        assert answer.fault_code == "Client.Authentication"


def test_an_agency_without_networks_is_served_from_anywhere(hub):
    answer = hub.call(envelope("<lt:GetDocuments/>", G12, PASSWORD), remote_addr="203.0.113.9")
    assert answer.status == 200
