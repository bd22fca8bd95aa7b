"""The networks a caller may come from: lists of IP networks, and whether an address is
in one of them."""

from __future__ import annotations

import functools
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4096)
def parse_networks(text: str) -> tuple[Network, ...]:
    """The networks of a list of addresses and CIDR blocks (``10.1.2.0/24``), separated
    by spaces or commas; ValueError naming the first entry that is neither."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry[:60]!r} is not an IP address or network") from None
    return tuple(networks)


def canonical(text: str) -> str:
    """The list as the hub keeps it: each network in its shortest form, one space apart."""
    return " ".join(str(network) for network in parse_networks(text))


def within(address: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` (an IP address as text) is in one of ``networks``; something
    that is not an IP address is in none. An IPv4 address seen through IPv6 (``::ffff:``)
    counts as the IPv4 address it is."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
