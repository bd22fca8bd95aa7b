"""The gateway's settings: one frozen object, read from the environment only here.

Every field has a safe default; ``LIENTHONG_<FIELD>`` in the environment
overrides it, and command-line options override both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from gateway.security.networks import parse_networks

MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    db_url: str = "sqlite:///var/lienthong.db"
    """SQLAlchemy URL: ``sqlite:///PATH`` or ``postgresql+psycopg://USER@HOST/DB``."""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    """The SOAP address published in the WSDL; default ``http://HOST:PORT/soap``."""
    workers: int = 1
    threads: int = 8
    pin_workers: bool = False
    """Keep each worker process on one CPU, the workers spread over the CPUs (for a host
    that runs one gateway: others would not know which CPUs are taken)."""
    lease_seconds: int = 300
    """How long a fetched message stays hidden from other fetches before it is offered again."""
    max_request_bytes: int = 128 * MiB
    max_document_bytes: int = 96 * MiB
    max_xml_depth: int = 64
    max_recipients: int = 500
    max_fetch: int = 100
    clock_skew_seconds: int = 300
    """Allowed distance between a WS-Security Created time and the hub's clock."""
    max_failed_sign_ins: int = 10
    """Wrong passwords in a row after which an agency's sign-ins are refused for
    ``sign_in_lockout_seconds``, whatever the password (0: never)."""
    sign_in_lockout_seconds: int = 900
    trusted_proxies: str = ""
    """Addresses or networks of the load balancers in front of the hub (spaces or commas
    between them): a request from one is taken to come from the address its
    ``X-Forwarded-For`` names, which an agency's networks are checked against."""
    hub_key: str = ""
    """Fernet key that encrypts the secrets of agencies allowed PasswordDigest."""
    db_timeout_seconds: int = 5
    log_level: str = "INFO"
    require_signatures: bool = False
    """Refuse unsigned documents from every agency (agencies can also be set one by one)."""
    allow_sha1_signatures: bool = False
    """Accept RSA-SHA1 signatures from older systems; such documents are marked weak."""
    ca_bundle: str = ""
    """PEM file of trusted CAs; agency certificates must then chain to one and be current."""
    hub_signing_key: str = ""
    """PEM private key the hub signs evidence checkpoints with."""
    hub_certificate: str = ""
    """PEM certificate of that key, given to whoever checks an evidence proof."""
    checkpoint_interval_seconds: int = 3600
    quota_per_minute: int = 600
    """Documents one agency may send per minute (0: no limit); agencies can have their own."""
    quota_bytes_per_day: int = 20 * 1024 * MiB
    """Bytes one agency may send per day, Vietnam time (0: no limit)."""
    quota_window_seconds: int = 60
    """The window of the per-minute limit (shorter only in tests)."""
    max_in_flight: int = 64
    """SOAP requests the hub handles at once, shared evenly among its worker processes;
    more get Server.Busy at once."""
    retention_days: int = 90
    """``purge`` removes the bytes of documents every recipient closed this many days ago."""
    ops_token: str = ""
    """Bearer token that opens /metrics and /health on the public port."""
    admin_port: int = 0
    """If set, /metrics and /health are also served without a token on ADMIN_HOST:ADMIN_PORT."""
    admin_host: str = ""
    """Address of the admin port (default: HOST)."""
    gzip_from_bytes: int = 64 * 1024
    """Answers of at least this many bytes, and GetAgencies listings, are gzip-compressed
    for clients that send ``Accept-Encoding: gzip`` (0: never)."""
    streaming: bool = True
    """SendDocument and GetDocuments read and write documents as streams, in front of spyne
    (off: spyne handles every request whole)."""
    inbox: str = ""
    """Serve as the inbox of this one agency (the direct model): accept only messages
    addressed to it, from the agencies registered here."""
    parent_url: str = ""
    """SOAP address of the parent hub; recipients not registered here are forwarded to it."""
    parent_agency: str = ""
    """This hub's agency code at the parent hub."""
    parent_password: str = ""
    """This hub's password at the parent hub."""
    parent_poll_seconds: int = 5
    """How often the parent hub is asked for messages, and the forward queue looked at."""
    parent_give_up_seconds: int = 86400
    """A document the parent hub could not be given for this long is marked failed."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then ``LIENTHONG_*`` variables, then non-None ``overrides``."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            raw = environ.get(f"LIENTHONG_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = _convert(field.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def in_flight_per_worker(self) -> int:
        """Each worker's share of ``max_in_flight``: a dead worker can leak no slot."""
        return max(1, self.max_in_flight // max(1, self.workers))

    def __post_init__(self):
        if self.parent_url and not (self.parent_agency and self.parent_password):
            raise ValueError("a parent hub needs this hub's agency code and password there")
        if self.inbox and self.parent_url:
            raise ValueError("an agency's inbox has no parent hub")
        parse_networks(self.trusted_proxies)  # ValueError naming a bad entry
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}/soap")


def _convert(kind: str, raw: str):
    if kind == "int":
        return int(raw)
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw
