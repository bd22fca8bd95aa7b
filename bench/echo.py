"""The baseline: a bare spyne service that only echoes a document, on the same server.

python -m bench.echo --port 8091 [--threads 8] [--pin-workers]
"""

from __future__ import annotations

import argparse

from gateway import spyne_compat

spyne_compat.install()

from gunicorn.app.base import BaseApplication  # noqa: E402
from spyne import Application, ByteArray, Service, rpc  # noqa: E402
from spyne.protocol.soap import Soap11  # noqa: E402
from spyne.server.wsgi import WsgiApplication  # noqa: E402

from gateway.server import CpuPinning  # noqa: E402

NAMESPACE = "urn:lienthong:bench:echo"


class EchoService(Service):
    @rpc(ByteArray, _returns=ByteArray)
    def Echo(ctx, Document):
        return Document


def echo_app() -> WsgiApplication:
    application = Application(
        [EchoService], tns=NAMESPACE,
        in_protocol=Soap11(validator="lxml", huge_tree=True), out_protocol=Soap11(),
    )  # fmt: skip
    return WsgiApplication(application, max_content_length=128 * 1024 * 1024)


class EchoServer(BaseApplication):
    """gunicorn with the gateway's own server settings (gthread, one worker)."""

    def __init__(self, port: int, threads: int = 8, pinned: bool = False):
        self._port, self._threads, self._pinned = port, threads, pinned
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", f"127.0.0.1:{self._port}")
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", self._threads)
        self.cfg.set("workers", 1)
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)
        if self._pinned:
            CpuPinning().configure(self.cfg)

    def load(self):
        return echo_app()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pin-workers", action="store_true", help="as LIENTHONG_PIN_WORKERS")
    arguments = parser.parse_args()
    EchoServer(arguments.port, arguments.threads, arguments.pin_workers).run()
