"""The composition root: settings -> engine -> unit of work -> hub -> WSGI application."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from gateway.hub.audit import Audit
from gateway.hub.directory import Directory
from gateway.hub.hub import Hub, utcnow
from gateway.hub.operators import Operators
from gateway.security.evidence import CheckpointSigner
from gateway.security.secretbox import SecretBox
from gateway.settings import Settings
from gateway.store.connections import connections_for
from gateway.store.engine import make_engine
from gateway.store.migrate import upgrade
from gateway.store.unit_of_work import SqlUnitOfWork


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    unit_of_work: Callable[[], SqlUnitOfWork]
    reading: Callable[[], SqlUnitOfWork]
    """Units of work that only read (on a SQLite file, beside the writers)."""
    hub: Hub
    directory: Directory
    audit: Audit
    operators: Operators


def build_gateway(settings: Settings, *, migrate: bool = True) -> Gateway:
    """Wire a hub to its database, bringing the schema up to date first."""
    engine = make_engine(settings.db_url, timeout_seconds=settings.db_timeout_seconds)
    if migrate:
        upgrade(engine)
    secret_box = SecretBox(settings.hub_key) if settings.hub_key else None
    ca_bundle = Path(settings.ca_bundle).read_bytes() if settings.ca_bundle else None
    signer = None
    if settings.hub_signing_key:
        signer = CheckpointSigner(
            Path(settings.hub_signing_key).read_bytes(),
            Path(settings.hub_certificate).read_bytes(),
        )

    connections = connections_for(engine, settings.db_timeout_seconds)

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(connections)

    def reading() -> SqlUnitOfWork:
        return SqlUnitOfWork(connections, read_only=True)

    return Gateway(
        settings=settings,
        engine=engine,
        unit_of_work=unit_of_work,
        reading=reading,
        hub=Hub(
            unit_of_work,
            settings,
            reading=reading,
            secret_box=secret_box,
            signer=signer,
            ca_bundle=ca_bundle,
        ),
        directory=Directory(unit_of_work, secret_box, ca_bundle, reading),
        audit=Audit(reading, signer.certificate_pem if signer else None),
        operators=Operators(unit_of_work, utcnow, settings),
    )


def build_wsgi_app(settings: Settings, *, migrate: bool = True):
    """The WSGI application a server runs: the hub behind its SOAP endpoint."""
    from gateway.soap.application import GatewayWsgi

    configure_logging(settings)
    from gateway.web.dashboard import Dashboard

    gateway = build_gateway(settings, migrate=migrate)
    if settings.parent_url:
        from gateway.upstream import start_parent_link

        start_parent_link(gateway.hub, settings)
    dashboard = Dashboard(
        gateway.hub, gateway.operators, secure=settings.public_url.startswith("https://")
    )
    return GatewayWsgi(gateway.hub, gateway.directory, settings, dashboard)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
