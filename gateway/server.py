"""Serving the hub on gunicorn: worker processes with threads, graceful on SIGTERM."""

from __future__ import annotations

import os
import tempfile
from collections import Counter

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
        if settings.pin_workers:
            CpuPinning().configure(self.cfg)

    def load(self):
        from gateway.bootstrap import build_wsgi_app

        return build_wsgi_app(self._settings, migrate=False)


class CpuPinning:
    """Each worker process kept on one CPU, the workers spread evenly over the CPUs this
    process may use.

    A worker's threads take turns holding the interpreter lock, and every SQLite call,
    socket read and sync hands it over; across CPUs each handover wakes another CPU. On
    one CPU, a worker on a 2-core virtual machine switched threads 7 times a SendDocument
    instead of 25, and answered 30 % more of them (docs/performance.md)."""

    def __init__(self, cpus=None):
        self._cpus = sorted(os.sched_getaffinity(0) if cpus is None else cpus)
        """The CPUs to spread over: by default, those this process may use."""

    def configure(self, cfg) -> None:
        cfg.set("pre_fork", self.choose)
        cfg.set("post_fork", self.keep_to_chosen)

    def choose(self, server, worker) -> None:
        """In the master, before the fork: the CPU with the fewest live workers."""
        taken = Counter(getattr(other, "cpu", None) for other in server.WORKERS.values())
        worker.cpu = min(self._cpus, key=lambda cpu: taken[cpu])

    @staticmethod
    def keep_to_chosen(server, worker) -> None:
        """In the worker, before its threads start (they inherit it)."""
        os.sched_setaffinity(0, {worker.cpu})


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
