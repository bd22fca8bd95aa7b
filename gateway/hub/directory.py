"""The agency directory: who may use the hub, and with which credentials."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from gateway.envelope.model import is_agency_code
from gateway.errors import AdminError, InvalidRequest
from gateway.hub.model import Agency, DirectoryEntry
from gateway.hub.ports import UnitOfWork
from gateway.security.networks import canonical
from gateway.security.passwords import hash_password
from gateway.security.secretbox import SecretBox
from gateway.security.signatures import check_certificate

IMPORT_BATCH = 1000
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry: a name holding one could not be listed."""
LISTING_BATCH = 1000
"""A listing reads this many agencies per transaction."""
MAX_LISTING = 10_000
"""The most agencies one page of a listing may ask for."""
SIGNATURE_POLICIES = ("optional", "required")


class DirectoryError(AdminError):
    """An administrative request that cannot be carried out (shown to the operator)."""


def parent_of(code: str) -> str | None:
    """The code of the unit above ``code``: its lowest non-zero group zeroed.

    The last group is the level-1 unit; the groups to its left are levels 2, 3 and 4
    below it, the leftmost being the lowest. A level-1 unit has no parent.
    """
    groups = code.split(".")
    for index, group in enumerate(groups[:-1]):
        if group.strip("0"):
            groups[index] = "0" * len(group)
            return ".".join(groups)
    return None


class Directory:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        secret_box: SecretBox | None,
        ca_bundle: bytes | None = None,
        reading: Callable[[], UnitOfWork] | None = None,
    ):
        self._uow = uow_factory
        self._reading = reading or uow_factory
        self._secret_box = secret_box
        self._ca_bundle = ca_bundle

    def add(
        self,
        code: str,
        name: str,
        password: str,
        *,
        allow_digest: bool = False,
        certificate: str | None = None,
        via: str | None = None,
        endpoint: str | None = None,
    ) -> Agency:
        """Register an agency that signs in here, or, with ``via``, one reached through a
        child hub (it has no password here: that hub sends and collects for it)."""
        if not is_agency_code(code):
            raise DirectoryError(
                f"{code!r} is not an agency code: digits, A-Z and dots, at most 35 characters."
            )
        if not password and not via:
            raise DirectoryError("An agency needs a password.")
        if NOT_IN_XML.search(name):
            raise DirectoryError(f"The name of {code} holds a control character.")
        secret = None
        if allow_digest:
            if self._secret_box is None:
                raise DirectoryError(
                    "--allow-digest needs a hub key: set LIENTHONG_HUB_KEY "
                    "(`lienthong-gateway generate-key` makes one)."
                )
            secret = self._secret_box.encrypt(password)
        agency = Agency(
            code=code,
            name=name,
            password_hash=hash_password(password),
            allow_digest=allow_digest,
            digest_secret=secret,
            parent_code=parent_of(code),
            certificate=self._checked_certificate(certificate) if certificate else None,
            via=via,
            endpoint=_checked_endpoint(endpoint) if endpoint else None,
        )
        with self._uow() as uow:
            if uow.agencies.get(code) is not None:
                raise DirectoryError(f"Agency {code} is already registered.")
            if via:
                _check_child_hub(uow, via)
            uow.agencies.add(agency)
            uow.commit()
        return agency

    def set_active(self, code: str, active: bool) -> None:
        self._change(code, active=active)

    def set_certificate(self, code: str, certificate: str) -> None:
        """Register the certificate the agency's document signatures are checked against."""
        self._change(code, certificate=self._checked_certificate(certificate))

    def set_signature_policy(self, code: str, policy: str) -> None:
        if policy not in SIGNATURE_POLICIES:
            raise DirectoryError(f"The signature policy is one of {', '.join(SIGNATURE_POLICIES)}.")
        self._change(code, signature_policy=policy)

    def set_quota(
        self, code: str, *, per_minute: int | None = None, bytes_per_day: int | None = None
    ) -> None:
        """Override the hub's default limits for one agency (0: no limit)."""
        changes = {}
        if per_minute is not None:
            changes["quota_per_minute"] = per_minute
        if bytes_per_day is not None:
            changes["quota_bytes_per_day"] = bytes_per_day
        if not changes or any(value < 0 for value in changes.values()):
            raise DirectoryError("Give --per-minute and/or --bytes-per-day, 0 or more.")
        self._change(code, **changes)

    def set_endpoint(self, code: str, url: str) -> None:
        """Publish (or, with an empty ``url``, remove) the address of the agency's inbox."""
        self._change(code, endpoint=_checked_endpoint(url) if url else None)

    def set_networks(self, code: str, networks: Sequence[str]) -> None:
        """Accept the agency's requests only from ``networks`` (addresses or CIDR
        blocks); from any address if there are none."""
        try:
            listed = canonical(" ".join(networks))
        except ValueError as exc:
            raise DirectoryError(f"{exc}.") from exc
        self._change(code, networks=listed or None)

    def get(self, code: str) -> Agency | None:
        with self._uow() as uow:
            return uow.agencies.get(code)

    def certificate(self, code: str) -> str | None:
        with self._uow() as uow:
            agency = uow.agencies.get(code)
        return agency.certificate if agency else None

    def _change(self, code: str, **changes) -> None:
        with self._uow() as uow:
            agency = uow.agencies.get(code)
            if agency is None:
                raise DirectoryError(f"No agency {code} is registered.")
            uow.agencies.update(replace(agency, **changes))
            uow.commit()

    def _checked_certificate(self, pem: str) -> str:
        try:
            check_certificate(pem, ca_bundle=self._ca_bundle)
        except ValueError as exc:
            raise DirectoryError(f"The certificate is not acceptable: {exc}.") from exc
        return pem

    def set_password(self, code: str, password: str) -> None:
        if not password:
            raise DirectoryError("An agency needs a password.")
        with self._uow() as uow:
            agency = uow.agencies.get(code)
            if agency is None:
                raise DirectoryError(f"No agency {code} is registered.")
            secret = self._secret_box.encrypt(password) if agency.allow_digest else None
            if agency.allow_digest and self._secret_box is None:
                raise DirectoryError("This agency allows PasswordDigest: set LIENTHONG_HUB_KEY.")
            uow.agencies.update(
                replace(agency, password_hash=hash_password(password), digest_secret=secret)
            )
            uow.agencies.clear_failed_sign_ins(code)
            uow.commit()

    def unlock(self, code: str) -> None:
        """Let the agency sign in again at once, and forget its wrong passwords."""
        with self._uow() as uow:
            if uow.agencies.get(code) is None:
                raise DirectoryError(f"No agency {code} is registered.")
            uow.agencies.clear_failed_sign_ins(code)
            uow.commit()

    def list(self, parent_code: str | None = None) -> list[Agency]:
        """Every agency, or the direct children of ``parent_code``, by code."""
        with self._uow() as uow:
            return sorted(uow.agencies.list(parent_code), key=lambda agency: agency.code)

    def entries(
        self, parent_code: str | None = None, after: str | None = None, count: int | None = None
    ) -> Iterator[DirectoryEntry]:
        """The directory by code, as every agency may see it: every agency, or the direct
        children of ``parent_code``; only those after ``after``, and at most ``count``
        (1 to MAX_LISTING) when given. Read LISTING_BATCH at a time, each batch in a short
        transaction that only reads: the national directory is listed without holding it
        in memory or holding up the writers."""
        if count is not None and not 1 <= count <= MAX_LISTING:
            raise InvalidRequest(f"MaxCount must be between 1 and {MAX_LISTING}.")
        return self._listed(parent_code, after, count)

    def _listed(
        self, parent_code: str | None, after: str | None, remaining: int | None
    ) -> Iterator[DirectoryEntry]:
        while remaining is None or remaining > 0:
            size = LISTING_BATCH if remaining is None else min(LISTING_BATCH, remaining)
            with self._reading() as uow:
                batch = uow.agencies.entries(parent_code, after, size)
            yield from batch
            if len(batch) < size:
                return
            after = batch[-1].code
            if remaining is not None:
                remaining -= size

    def import_names(
        self, rows: Iterable[tuple[str, str]], progress: Callable[[int], None] = lambda n: None
    ) -> int:
        """Add or rename agencies from (code, name) rows, in batches; others are untouched.

        New agencies get no password: they appear in the directory, and can receive
        documents, but cannot sign in until ``set_password``. Idempotent.
        """
        total = 0
        for batch in _batches(rows, IMPORT_BATCH):
            agencies = []
            for line, (code, name) in batch:
                code, name = _checked_row(line, code, name)
                agencies.append(Agency(code, name, "", parent_code=parent_of(code)))
            agencies = list({agency.code: agency for agency in agencies}.values())
            with self._uow() as uow:
                uow.agencies.upsert_names(agencies)
                uow.commit()
            total += len(agencies)
            progress(len(agencies))
        return total


def _check_child_hub(uow: UnitOfWork, code: str) -> None:
    hub = uow.agencies.get(code)
    if hub is None or not hub.password_hash or hub.via:
        raise DirectoryError(
            f"{code} must first be registered here as an agency with a password: the child "
            "hub signs in with it."
        )


def _checked_endpoint(url: str) -> str:
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DirectoryError(f"{url!r} is not an http(s) address.")
    return url


def check_import(rows: Iterable[tuple[str, str]]) -> int:
    """Check every (code, name) row before anything is written; return how many."""
    count = 0
    for line, (code, name) in enumerate(rows, start=2):
        _checked_row(line, code, name)
        count += 1
    return count


def _checked_row(line: int, code: str, name: str) -> tuple[str, str]:
    code, name = code.strip(), name.strip()
    if not is_agency_code(code):
        raise DirectoryError(f"line {line}: {code!r} is not an agency code.")
    if not name:
        raise DirectoryError(f"line {line}: agency {code} has no name.")
    if NOT_IN_XML.search(name):
        raise DirectoryError(f"line {line}: the name of {code} holds a control character.")
    return code, name


def _batches(rows: Iterable[tuple[str, str]], size: int):
    batch = []
    for line, row in enumerate(rows, start=2):
        batch.append((line, row))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
