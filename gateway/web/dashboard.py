"""The operator's dashboard at /dashboard: server-rendered pages behind a sign-in."""

from __future__ import annotations

from datetime import datetime
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from jinja2 import Environment, PackageLoader, select_autoescape

from gateway.hub.hub import Hub
from gateway.hub.operators import SESSION_HOURS, Operators
from gateway.soap.bodies import declared_length

COOKIE = "lienthong_session"
MAX_FORM_BYTES = 4096


class Dashboard:
    """A small WSGI application: /dashboard, /dashboard/document, /dashboard/login and
    /dashboard/logout."""

    def __init__(self, hub: Hub, operators: Operators, stale_hours: int = 24, secure: bool = False):
        self._hub = hub
        self._operators = operators
        self._stale_hours = stale_hours
        self._cookie_flags = "HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
        """With ``secure`` (the hub is published over HTTPS), browsers send the session
        cookie over HTTPS only."""
        self._templates = Environment(
            loader=PackageLoader("gateway.web"), autoescape=select_autoescape()
        )

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        token = _cookie(environ)
        if path == "/dashboard/login":
            if method == "POST":
                form = _form(environ)
                token = self._operators.sign_in(form.get("name", ""), form.get("password", ""))
                if token:
                    cookie = self._session_cookie(token)
                    return _redirect(start_response, "/dashboard", cookie)
                return self._page(start_response, "login.html", status="401 Unauthorized",
                                  failed=True)  # fmt: skip
            return self._page(start_response, "login.html", failed=False)
        if path == "/dashboard/logout" and method == "POST":
            if token:
                self._operators.sign_out(token)
            return _redirect(start_response, "/dashboard/login", self._session_cookie("", 0))
        page = {"/dashboard": self._overview, "/dashboard/document": self._document}.get(
            path.rstrip("/")
        )
        if page is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Not found.\n"]
        operator = self._operators.operator(token)
        if operator is None:
            return _redirect(start_response, "/dashboard/login")
        return page(environ, start_response, operator)

    def _overview(self, environ, start_response, operator: str):
        view = self._hub.overview(self._stale_hours)
        peak = max((n for counts in view.volume.values() for n in counts.values()), default=1)
        return self._page(
            start_response, "dashboard.html", operator=operator, view=view, peak=peak,
            stale_hours=self._stale_hours, age=lambda at: _age(view.now, at),
        )  # fmt: skip

    def _document(self, environ, start_response, operator: str):
        """The delivery timeline of the documents sent with a DocumentId."""
        query = {key: values[0].strip() for key, values in parse_qs(
            environ.get("QUERY_STRING", "")[:MAX_FORM_BYTES]).items()}  # fmt: skip
        document_id, sender = query.get("id", ""), query.get("sender", "")
        found = self._hub.trace(document_id, sender or None) if document_id else None
        status = "404 Not Found" if found is not None and not found.documents else "200 OK"
        return self._page(
            start_response, "document.html", status=status, operator=operator,
            document_id=document_id, sender=sender, found=found,
        )  # fmt: skip

    def _session_cookie(self, token: str, max_age: int = SESSION_HOURS * 3600):
        value = f"{COOKIE}={token}; Path=/dashboard; Max-Age={max_age}; {self._cookie_flags}"
        return ("Set-Cookie", value)

    def _page(self, start_response, template: str, status: str = "200 OK", **context):
        body = self._templates.get_template(template).render(**context).encode("utf-8")
        start_response(
            status,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Frame-Options", "DENY"),
                ("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'"),
            ],
        )
        return [body]


def _form(environ) -> dict[str, str]:
    length = min(declared_length(environ) or 0, MAX_FORM_BYTES)
    raw = environ["wsgi.input"].read(length).decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(raw).items()}


def _cookie(environ) -> str | None:
    cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    return cookie[COOKIE].value if COOKIE in cookie else None


def _redirect(start_response, location: str, *headers):
    start_response("303 See Other", [("Location", location), *headers])
    return [b""]


def _age(now: datetime, at: datetime) -> str:
    hours, seconds = divmod(int((now - at).total_seconds()), 3600)
    return f"{hours} h {seconds // 60:02d} min"
