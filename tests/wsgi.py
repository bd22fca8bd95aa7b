"""Calling the gateway's WSGI application in-process, with SOAP requests built by hand."""

from __future__ import annotations

import base64
import io
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from wsgiref.util import setup_testing_defaults

import pytest
from lxml import etree
from sqlalchemy import func, select

from gateway import ns
from gateway.bootstrap import build_gateway
from gateway.errors import CATALOGUE
from gateway.settings import Settings
from gateway.soap import streaming
from gateway.soap.application import GatewayWsgi
from gateway.store.tables import deliveries, document_chunks, documents, events

CODES = {error.code for error in CATALOGUE}


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def fault_code(self) -> str | None:
        root = etree.fromstring(self.body)
        code = root.findtext(".//faultcode")
        return code.split(":", 1)[-1] if code else None


REQUEST_PATHS = ("streaming", "streaming in pieces", "spyne")
"""The endpoint with the streaming front (small requests parsed whole, or every one read
in pieces as large ones are), and with spyne alone: each must answer alike."""


@contextmanager
def hub_on_path(request_path: str, db_path, agencies=(), password="pw", **settings):
    """An in-process hub on a SQLite file answering on one of REQUEST_PATHS, with
    ``agencies`` registered (all with ``password``)."""
    hub = InProcessHub(f"sqlite:///{db_path}", streaming=request_path != "spyne", **settings)
    for code in agencies:
        hub.gateway.directory.add(code, code, password)
    with pytest.MonkeyPatch.context() as patch:
        if request_path == "streaming in pieces":
            patch.setattr(streaming, "WHOLE_UP_TO", -1)
        yield hub
    hub.gateway.engine.dispose()


class InProcessHub:
    def __init__(self, db_url: str, **settings):
        self.gateway = build_gateway(Settings(db_url=db_url, **settings))
        self.app = GatewayWsgi(self.gateway.hub, self.gateway.directory, self.gateway.settings)

    def call(
        self,
        body: bytes,
        content_length: int | None = None,
        stream=None,
        *,
        method: str = "POST",
        path: str = "/soap",
        query: str = "",
        headers: dict | None = None,
        remote_addr: str = "127.0.0.1",
    ) -> Response:
        """POST ``body`` to /soap (or send it by ``method`` to ``path?query``, with more
        ``headers``) from ``remote_addr``; ``stream`` replaces the request body's file
        object."""
        environ: dict = {}
        setup_testing_defaults(environ)
        environ.update(
            {
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": "text/xml; charset=utf-8",
                "CONTENT_LENGTH": str(len(body) if content_length is None else content_length),
                "wsgi.input": stream or io.BytesIO(body),
                "REMOTE_ADDR": remote_addr,
            }
        )
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = int(status.split()[0])
            started["headers"] = dict(headers)

        chunks = self.app(environ, start_response)
        payload = b"".join(chunks)
        return Response(started["status"], started["headers"], payload)

    def row_counts(self) -> dict:
        """Rows of every table a request can change; a refusal adds only its evidence."""
        with self.gateway.engine.connect() as conn:
            counts = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (documents, document_chunks, deliveries)
            }
            counts["events"] = conn.execute(
                select(func.count()).select_from(events).where(events.c.kind != "refused")
            ).scalar()
        return counts


def envelope(body: str, agency: str | None = None, password: str | None = None) -> bytes:
    header = ""
    if agency:
        created = datetime.now(UTC).isoformat()
        nonce = base64.b64encode(uuid.uuid4().bytes).decode()
        header = (
            f'<soapenv:Header><wsse:Security xmlns:wsse="{ns.WSSE}" xmlns:wsu="{ns.WSU}">'
            f"<wsse:UsernameToken><wsse:Username>{agency}</wsse:Username>"
            f'<wsse:Password Type="{ns.WSSE_PASSWORD_TEXT}">{password}</wsse:Password>'
            f"<wsse:Nonce>{nonce}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security></soapenv:Header>"
        )
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP11_ENV}" xmlns:lt="{ns.GATEWAY}">'
        f"{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def send_body(edxml: bytes) -> str:
    encoded = base64.b64encode(edxml).decode()
    return f"<lt:SendDocument><lt:Document>{encoded}</lt:Document></lt:SendDocument>"
