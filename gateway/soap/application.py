"""The WSGI application: the SOAP endpoint at /soap, its WSDL, and the contract files."""

from __future__ import annotations

import hmac
import inspect
import io
import logging
import threading
from importlib import resources

from lxml import etree
from spyne import Application, Fault
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from gateway import ns
from gateway.errors import Busy, EmptyRequest, GatewayError, InvalidRequest, TooLarge
from gateway.hub.directory import Directory
from gateway.hub.hub import Hub
from gateway.settings import Settings
from gateway.soap.addresses import ClientAddress
from gateway.soap.bodies import declared_length, refuse_cut_short
from gateway.soap.compression import compressing
from gateway.soap.faults import log_fault, normalize, to_fault
from gateway.soap.inflating import Inflating
from gateway.soap.protocol import HardenedSoap11
from gateway.soap.service import LienThongService
from gateway.soap.streaming import StreamingFront, fault_response
from gateway.web import metrics

SERVICE_NAME = "LienThongGateway"
DEFAULT_ADDRESS = Settings().public_url
"""The address written into ``wsdl/lienthong.wsdl``; a running hub publishes its own."""

log = logging.getLogger("gateway.soap")

for _noisy in ("spyne.protocol", "spyne.server", "spyne.application", "spyne.model"):
    # spyne logs whole request bodies on errors; faults are logged by log_fault instead.
    logging.getLogger(_noisy).setLevel(logging.CRITICAL)


class GatewayApplication(Application):
    """A spyne Application that carries the hub its service methods call."""

    def __init__(self, hub: Hub | None, directory: Directory | None, settings: Settings):
        super().__init__(
            [LienThongService],
            tns=ns.GATEWAY,
            name=SERVICE_NAME,
            in_protocol=HardenedSoap11(
                validator="lxml",
                max_bytes=settings.max_request_bytes,
                max_depth=settings.max_xml_depth,
                max_document_bytes=settings.max_document_bytes,
                huge_tree=True,
            ),
            out_protocol=Soap11(),
        )
        self.hub = hub
        self.directory = directory
        self.client_address = ClientAddress(settings.trusted_proxies)


class GatewaySoapServer(WsgiApplication):
    """spyne's WSGI server, with every fault mapped onto the gateway's catalogue."""

    def handle_rpc(self, req_env, start_response):
        """spyne's answer; Server.Internal, as a SOAP fault, for an error spyne lets
        escape before it answers (the server would send a bare HTTP 500)."""
        started = []

        def starting(*args):
            started.append(True)
            return start_response(*args)

        try:
            return super().handle_rpc(req_env, starting)
        except Exception:
            if started:
                raise
            log.exception("spyne failed on a request")
            return fault_response(GatewayError(), start_response)

    def handle_error(self, p_ctx, others, error, start_response):
        if isinstance(error, Fault):
            error = normalize(error)
        else:
            error = to_fault(GatewayError())
        log_fault(error)
        p_ctx.out_error = error
        return super().handle_error(p_ctx, others, error, start_response)


def interface_document(settings: Settings) -> bytes:
    """The WSDL as the hub serves it at ``settings.public_url``."""
    return build_soap_server(settings, None, None)._wsdl


def build_soap_server(
    settings: Settings, hub: Hub | None, directory: Directory | None
) -> GatewaySoapServer:
    server = GatewaySoapServer(
        GatewayApplication(hub, directory, settings),
        max_content_length=settings.max_request_bytes,
    )
    # Pin the published address; spyne would otherwise take the first caller's Host.
    server.doc.wsdl11.build_interface_document(settings.public_url)
    server._wsdl = _canonical(server.doc.wsdl11.get_interface_document())
    return server


def _canonical(wsdl: bytes) -> bytes:
    """The WSDL with each schema's declarations in a fixed order and tidy documentation.

    spyne emits declarations in an order that varies between processes, and Python
    3.13 dedents docstrings where 3.11 does not; normalising both makes the served
    WSDL byte-identical to ``wsdl/lienthong.wsdl`` (but for the address).
    """
    root = etree.fromstring(wsdl)
    for documentation in root.iter(f"{{{ns.WSDL}}}documentation"):
        documentation.text = inspect.cleandoc(documentation.text or "")
    rank = {"simpleType": 0, "complexType": 1, "element": 2}
    for schema in root.iter(f"{{{ns.XSD}}}schema"):
        declarations = sorted(
            schema, key=lambda e: (rank.get(etree.QName(e).localname, 3), e.get("name", ""))
        )
        schema[:] = declarations
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class GatewayWsgi:
    """Routes /soap to spyne, /wsdl/NAME to the contract files, /dashboard to the operators'
    pages, /metrics and /health to the operations endpoints.

    Refuses, before reading the body, requests over the size limit and requests beyond
    the number this worker may handle at once (Server.Busy). Compressed requests are
    inflated first (``inflating``), large answers compressed last (``compression``).
    """

    def __init__(self, hub: Hub, directory: Directory, settings: Settings, dashboard=None):
        self._hub = hub
        self._dashboard = dashboard
        self._ops_token = settings.ops_token
        self._admin_port = str(settings.admin_port) if settings.admin_port else None
        self._soap = build_soap_server(settings, hub, directory)
        if settings.streaming:
            front = StreamingFront(hub, directory, settings, self._soap)
        else:
            front = _read_before(self._soap)
        self._front = Inflating(front, settings.max_request_bytes)
        self._max_request_bytes = settings.max_request_bytes
        self._gzip_from = settings.gzip_from_bytes
        self._in_flight = threading.BoundedSemaphore(settings.in_flight_per_worker)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == "/soap":
            if environ.get("REQUEST_METHOD") != "POST":
                return self._not_posted(environ, start_response)
            refusal = self._refuse_body(environ)
            if refusal is not None:
                return fault_response(refusal, start_response)
            if not self._in_flight.acquire(blocking=False):
                busy = Busy("The hub is handling as many requests as it can.", retry_after=1)
                return fault_response(busy, start_response)
            try:
                response = compressing(self._front, environ, start_response, self._gzip_from)
            except BaseException:
                self._in_flight.release()
                raise
            return _released(response, self._in_flight.release)
        if path.startswith("/wsdl/"):
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                message = "The contract files are read with GET."
                return _method_not_allowed("GET, HEAD", message, start_response)
            return _contract_file(path.removeprefix("/wsdl/"), start_response)
        if path in ("/metrics", "/health"):
            return self._operations(path, environ, start_response)
        if self._dashboard is not None and path.startswith("/dashboard"):
            return self._dashboard(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found. The SOAP endpoint is /soap and its WSDL /soap?wsdl.\n"]

    def _not_posted(self, environ, start_response):
        """/soap other than by POST: its WSDL for GET or HEAD with ``?wsdl``, what it
        allows for OPTIONS, and 405 Method Not Allowed (with a SOAP fault) for the rest."""
        method = environ.get("REQUEST_METHOD", "GET")
        wsdl = environ.get("QUERY_STRING", "").split("=")[0].lower() == "wsdl"
        allowed = "GET, HEAD, POST, OPTIONS" if wsdl else "POST, OPTIONS"
        if wsdl and method in ("GET", "HEAD"):
            # spyne answers GET alone; the server leaves a HEAD's body out.
            return self._soap({**environ, "REQUEST_METHOD": "GET"}, start_response)
        if method == "OPTIONS":
            start_response("204 No Content", [("Allow", allowed)])
            return []
        message = "SOAP requests must be sent with POST; the WSDL is at /soap?wsdl."
        return _method_not_allowed(allowed, message, start_response)

    def _operations(self, path: str, environ, start_response):
        """/metrics and /health: on the admin port, or with the operations token."""
        allowed = environ.get("SERVER_PORT") == self._admin_port or (
            self._ops_token
            and hmac.compare_digest(
                environ.get("HTTP_AUTHORIZATION", ""), f"Bearer {self._ops_token}"
            )
        )
        if not allowed:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Forbidden: send Authorization: Bearer <LIENTHONG_OPS_TOKEN>.\n"]
        if path == "/health":
            healthy = self._hub.healthy()
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok\n" if healthy else b"database unreachable\n"]
        body = metrics.exposition(self._hub.backlog, self._hub.locked_sign_ins)
        start_response("200 OK", [("Content-Type", metrics.CONTENT_TYPE_LATEST)])
        return [body]

    def _refuse_body(self, environ):
        length = declared_length(environ)
        if length is None:
            if (environ.get("CONTENT_LENGTH") or "").strip():
                return InvalidRequest("The request's Content-Length is not a number of bytes.")
            return None  # chunked: limits are counted as it is read
        if length > self._max_request_bytes:
            return TooLarge(
                f"The request is {length} bytes; at most {self._max_request_bytes} are accepted."
            )
        if length == 0:
            return EmptyRequest()
        return None


def _method_not_allowed(allowed: str, message: str, start_response):
    """405 Method Not Allowed, its body the SOAP fault Client.InvalidRequest."""
    return fault_response(
        InvalidRequest(message), start_response,
        status="405 Method Not Allowed", headers=[("Allow", allowed)],
    )  # fmt: skip


def _read_before(spyne: GatewaySoapServer):
    """spyne without the streaming front: the body read before spyne reads it (spyne
    holds it whole anyway), so that one cut short is refused as the front refuses it."""

    def answer(environ, start_response):
        length = declared_length(environ)
        if length is None:
            return spyne(environ, start_response)
        body = environ["wsgi.input"].read(length)
        try:
            refuse_cut_short(len(body), length)
        except GatewayError as error:
            return fault_response(error, start_response)
        return spyne({**environ, "wsgi.input": io.BytesIO(body)}, start_response)

    return answer


def _released(response, release):
    """The response's pieces, releasing the in-flight slot once they are written."""
    try:
        yield from response
    finally:
        release()


def _contract_file(name: str, start_response):
    files = resources.files("gateway.wsdl")
    if "/" in name or not (name.endswith(".xsd") or name.endswith(".wsdl")):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found.\n"]
    target = files.joinpath(name)
    if not target.is_file():
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found.\n"]
    body = target.read_bytes()
    start_response(
        "200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]
