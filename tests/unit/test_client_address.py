"""Where a request came from: its peer, or behind a trusted proxy the client it names."""

import pytest

from gateway.security.networks import canonical, parse_networks, within
from gateway.settings import Settings
from gateway.soap.addresses import ClientAddress


@pytest.mark.parametrize(("address", "inside"), [
    ("10.1.2.3", True), ("10.1.3.3", False), ("2001:db8::1", True), ("::ffff:10.1.2.3", True),
    (" 10.1.2.3 ", True), ("", False), (None, False), ("10.1.2.3:4431", False), ("x", False),
])  # fmt: skip
def test_an_address_is_within_the_networks_that_hold_it(address, inside):
    assert within(address, parse_networks("10.1.2.0/24, 2001:db8::/32")) is inside


def test_a_list_is_written_shortest_and_refused_whole_for_one_bad_entry():
    assert canonical("10.0.0.9/8,192.0.2.1   ::1") == "10.0.0.0/8 192.0.2.1/32 ::1/128"
    assert canonical("") == ""
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        parse_networks("192.0.2.1 10.0.0.0/33")


def test_without_trusted_proxies_the_peer_is_the_client():
    address = ClientAddress("")
    environ = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "10.1.2.3"}
    assert address(environ) == "198.51.100.7"  # anyone can write that header
    assert address({}) is None


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("10.0.0.5", "192.0.2.44", "192.0.2.44"),
    ("10.0.0.5", "10.9.9.9, 192.0.2.44", "192.0.2.44"),  # the client wrote the first entry
    ("10.0.0.5", "192.0.2.44, 10.0.0.6", "192.0.2.44"),  # two trusted proxies in a row
    ("10.0.0.5", "", "10.0.0.5"),
    ("10.0.0.5", "10.0.0.7, 10.0.0.6", "10.0.0.7"),  # every hop trusted: the first
    ("198.51.100.7", "192.0.2.44", "198.51.100.7"),  # not from a trusted proxy
    ("10.0.0.5", "garbage", "garbage"),  # no address: within no agency's networks
])  # fmt: skip
def test_behind_trusted_proxies_the_client_is_the_last_hop_they_did_not_add(
    peer, forwarded, client
):
    address = ClientAddress("10.0.0.0/24")
    assert address({"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}) == client


def test_a_bad_trusted_proxy_setting_stops_the_hub_from_starting():
    with pytest.raises(ValueError, match="'10.0.0.x'"):
        Settings(trusted_proxies="10.0.0.1, 10.0.0.x")
