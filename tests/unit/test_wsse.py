"""Reading a WS-Security UsernameToken from a SOAP header."""

import pytest
from lxml import etree

from gateway import ns
from gateway.errors import AuthenticationFailed
from gateway.security.wsse import read_username_token

TOKEN = (
    "<wsse:UsernameToken><wsse:Username> 000.00.00.G12 </wsse:Username>"
    f'<wsse:Password Type="{ns.WSSE_PASSWORD_TEXT}">pw</wsse:Password>'
    "<wsse:Nonce>AAEC</wsse:Nonce>{created}</wsse:UsernameToken>"
)


def header(*blocks: str) -> etree._Element:
    return etree.fromstring(
        f'<h xmlns:wsse="{ns.WSSE}" xmlns:wsu="{ns.WSU}">'
        + "".join(f"<wsse:Security>{block}</wsse:Security>" for block in blocks)
        + "</h>"
    )


def test_the_token_s_fields_are_read():
    token = read_username_token(
        header(TOKEN.format(created="<wsu:Created>2024-05-01T08:00:00Z</wsu:Created>"))
    )
    assert (token.username, token.password, token.digest, token.nonce) == (
        "000.00.00.G12", "pw", False, b"\x00\x01\x02",
    )  # fmt: skip
    assert token.created.isoformat() == "2024-05-01T08:00:00+00:00"


def test_without_its_own_created_time_the_security_timestamp_s_is_taken():
    timestamp = (
        "<wsu:Timestamp><wsu:Created>2024-05-01T08:00:00Z</wsu:Created>"
        "<wsu:Expires>2024-05-01T08:05:00Z</wsu:Expires></wsu:Timestamp>"
    )
    token = read_username_token(header(timestamp + TOKEN.format(created="")))
    assert token.created_text == "2024-05-01T08:00:00Z"
    assert token.expires.isoformat() == "2024-05-01T08:05:00+00:00"


def test_only_the_first_security_block_s_first_token_is_read():
    other = TOKEN.format(created="").replace("G12", "H31")
    assert read_username_token(header(TOKEN.format(created="") + other, other)).username == (
        "000.00.00.G12"
    )
    first_without = "<wsse:UsernameToken><wsse:Username>x</wsse:Username></wsse:UsernameToken>"
    with pytest.raises(AuthenticationFailed):
        read_username_token(header(first_without + other))


@pytest.mark.parametrize(
    "blocks",
    [
        (),
        ("",),
        ("<wsse:UsernameToken><wsse:Username>x</wsse:Username></wsse:UsernameToken>",),
    ],
    ids=["no security", "no token", "no password"],
)
def test_a_header_without_a_whole_token_is_refused(blocks):
    with pytest.raises(AuthenticationFailed):
        read_username_token(header(*blocks))
