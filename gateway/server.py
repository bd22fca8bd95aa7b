"""Serving the hub on gunicorn: worker processes with threads, graceful on SIGTERM."""

from __future__ import annotations

import os
import tempfile

from gunicorn.app.base import BaseApplication

from gateway.errors import AdminError
from gateway.settings import Settings


class GatewayServer(BaseApplication):
    """gunicorn, configured from our settings rather than its command line."""

    def __init__(self, settings: Settings):
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        for key, value in {
            "bind": [f"{settings.host}:{settings.port}"]
            + (
                [f"{settings.admin_host or settings.host}:{settings.admin_port}"]
                if settings.admin_port
                else []
            ),
            "workers": settings.workers,
            "worker_class": "gthread",
            "threads": settings.threads,
            "timeout": 300,
            "graceful_timeout": 30,
            "keepalive": 5,
            "loglevel": settings.log_level.lower(),
            "proc_name": "lienthong-gateway",
        }.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket in $HOME; several hubs on one host would clash.
            self.cfg.set("control_socket_disable", True)

    def load(self):
        from gateway.bootstrap import build_wsgi_app

        return build_wsgi_app(self._settings, migrate=False)


def serve(settings: Settings) -> None:
    """Bring the database up to date once, then run the workers until stopped."""
    from gateway.bootstrap import build_gateway

    gateway = build_gateway(settings)
    if settings.inbox and gateway.directory.get(settings.inbox) is None:
        raise AdminError(
            f"register {settings.inbox} first (`lienthong-gateway agency add`): its system "
            "signs in to collect what this inbox receives"
        )
    gateway.engine.dispose()
    # Workers count into files here, and a scrape of any worker adds them all up.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="lienthong-metrics-"))
    GatewayServer(settings).run()
