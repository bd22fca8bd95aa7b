"""The dashboard's session cookie and headers, in process (the browser test is e2e)."""

import html
import io
import re
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest

from gateway.bootstrap import build_gateway, build_wsgi_app
from gateway.settings import Settings
from gateway.web.dashboard import Dashboard
from tests.builders import G12, H31, H49, document


def post_sign_in(app, name: str, password: str, length: str | None = None) -> dict:
    """POST the sign-in form, its Content-Length ``length`` if given."""
    form = urlencode({"name": name, "password": password}).encode()
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD="POST", PATH_INFO="/dashboard/login",
        CONTENT_LENGTH=str(len(form)) if length is None else length,
        CONTENT_TYPE="application/x-www-form-urlencoded", **{"wsgi.input": io.BytesIO(form)},
    )  # fmt: skip
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    b"".join(app(environ, start_response))
    return answer


@pytest.mark.parametrize("public_url", ["http://hub.example/soap", "https://hub.example/soap"])
def test_the_session_cookie_stays_on_the_dashboard_and_on_https(tmp_path, public_url):
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'hub.db'}", public_url=public_url)
    build_gateway(settings).operators.add("Trực ban", "đúng rồi")
    app = build_wsgi_app(settings)
    answer = post_sign_in(app, "Trực ban", "đúng rồi")
    assert answer["status"].startswith("303")
    flags = [flag.strip() for flag in answer["headers"]["Set-Cookie"].split(";")[1:]]
    assert {"Path=/dashboard", "HttpOnly", "SameSite=Strict"} <= set(flags)
    assert ("Secure" in flags) == public_url.startswith("https://")
    assert post_sign_in(app, "Trực ban", "sai")["status"].startswith("401")


@pytest.mark.parametrize("length", ["-1", "", "many", "²"])
def test_a_form_without_a_usable_length_is_not_read(tmp_path, length):
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'hub.db'}")
    build_gateway(settings).operators.add("Trực ban", "đúng rồi")
    app = build_wsgi_app(settings)
    assert post_sign_in(app, "Trực ban", "đúng rồi", length)["status"].startswith("401")


def get(app, path: str, query: str = "", cookie: str = "") -> tuple[str, str]:
    """GET a page with the session cookie ``cookie``: its status and text."""
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, QUERY_STRING=query, HTTP_COOKIE=cookie)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status)

    body = b"".join(app(environ, start_response)).decode()
    return answer["status"], body


@pytest.fixture
def hub_with_a_document(tmp_path):
    """A hub with an operator, and "G12,số 7/BTTTT & VP" sent to H31 (which acknowledged
    it) and H49."""
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'hub.db'}")
    gateway = build_gateway(settings)
    gateway.operators.add("Trực ban", "đúng rồi")
    for code in (G12, H31, H49):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    gateway.hub.send(G12, document(document_id="G12,số 7/BTTTT & VP"))
    [message] = gateway.hub.fetch(H31, 10)
    gateway.hub.acknowledge(H31, [message.message_id])
    return settings, gateway


def signed_in(app) -> str:
    """The session cookie of an operator who signed in to ``app``."""
    return post_sign_in(app, "Trực ban", "đúng rồi")["headers"]["Set-Cookie"].split(";")[0]


def test_an_operator_finds_a_document_and_its_timeline_at_each_recipient(hub_with_a_document):
    app = build_wsgi_app(hub_with_a_document[0])
    cookie = signed_in(app)
    query = urlencode({"id": "G12,số 7/BTTTT & VP"})

    assert get(app, "/dashboard/document", query)[0].startswith("303")  # signed in only
    status, page = get(app, "/dashboard/document", query, cookie)
    assert status.startswith("200")
    assert "G12,số 7/BTTTT &amp; VP" in page
    assert "Về việc triển khai liên thông văn bản điện tử" in page
    assert f"Cơ quan {H49}" in page
    assert page.count('class="state">acknowledged<') == 1
    assert page.count('class="state">pending<') == 1
    query = urlencode({"id": "G12,số 7/BTTTT & VP", "sender": H31})  # H31 received it
    status, page = get(app, "/dashboard/document", query, cookie)
    assert status.startswith("404") and 'id="not-found"' in page
    status, page = get(app, "/dashboard/document", "", cookie)
    assert status.startswith("200") and 'id="find"' in page and "not-found" not in page


def test_each_document_not_picked_up_links_to_its_timeline(hub_with_a_document):
    gateway = hub_with_a_document[1]
    dashboard = Dashboard(gateway.hub, gateway.operators, stale_hours=0)
    cookie = signed_in(dashboard)

    page = get(dashboard, "/dashboard", "", cookie)[1]
    [link] = re.findall(r'href="/dashboard/document\?([^"]+)"', page)  # H49's
    status, page = get(dashboard, "/dashboard/document", html.unescape(link), cookie)
    assert status.startswith("200") and 'class="state">pending<' in page
