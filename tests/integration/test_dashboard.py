"""The dashboard's session cookie and headers, in process (the browser test is e2e)."""

import io
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest

from gateway.bootstrap import build_gateway, build_wsgi_app
from gateway.settings import Settings


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
