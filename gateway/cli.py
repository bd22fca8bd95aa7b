"""``lienthong-gateway``: serve the hub and administer its agency directory."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from gateway.errors import AdminError
from gateway.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(
            db_url=args.db,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            public_url=getattr(args, "public_url", None),
            workers=getattr(args, "workers", None),
            require_signatures=getattr(args, "require_signatures", None) or None,
            inbox=getattr(args, "inbox", None),
            parent_url=getattr(args, "parent_url", None),
            parent_agency=getattr(args, "parent_agency", None),
            parent_password=_parent_password(args),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.run(args, settings) or 0
    except (_UserError, AdminError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


class _UserError(Exception):
    pass


def _parent_password(args) -> str | None:
    variable = getattr(args, "parent_password_env", None)
    if variable is None:
        return None
    if variable not in os.environ:
        raise ValueError(f"set this hub's password at the parent hub in ${variable}")
    return os.environ[variable]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lienthong-gateway", description=__doc__)
    parser.add_argument("--db", help="database URL (default: LIENTHONG_DB_URL or ./var SQLite)")
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="serve the hub over SOAP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--public-url", help="SOAP address published in the WSDL")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument(
        "--require-signatures", action="store_true", help="refuse unsigned documents"
    )
    serve.add_argument(
        "--inbox", metavar="CODE", help="serve as the inbox of this one agency (direct model)"
    )
    serve.add_argument("--parent-url", help="SOAP address of the parent hub")
    serve.add_argument("--parent-agency", metavar="CODE", help="this hub's code at the parent")
    serve.add_argument(
        "--parent-password-env",
        metavar="VAR",
        help="environment variable holding this hub's password at the parent",
    )
    serve.set_defaults(run=_serve)

    agency = commands.add_parser("agency", help="manage the agency directory")
    agency_commands = agency.add_subparsers(title="agency commands")
    add = agency_commands.add_parser("add", help="register an agency")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--password")
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    add.add_argument(
        "--via",
        metavar="HUBCODE",
        help="reached through this child hub, which alone sends for it (no password then)",
    )
    add.add_argument("--endpoint", metavar="URL", help="SOAP address of the agency's own inbox")
    add.add_argument(
        "--allow-digest",
        action="store_true",
        help="also accept WS-Security PasswordDigest (the secret is kept encrypted, hub key)",
    )
    add.add_argument("--cert", type=Path, help="PEM certificate for the agency's signatures")
    add.set_defaults(run=_agency_add)
    set_cert = agency_commands.add_parser("set-cert", help="register an agency's certificate")
    set_cert.add_argument("code")
    set_cert.add_argument("file", type=Path)
    set_cert.set_defaults(run=_agency_set_cert)
    endpoint = agency_commands.add_parser(
        "set-endpoint", help="publish the SOAP address of an agency's own inbox"
    )
    endpoint.add_argument("code")
    endpoint.add_argument("url", help="its address; an empty string removes it")
    endpoint.set_defaults(run=_agency_set_endpoint)
    networks = agency_commands.add_parser(
        "set-networks", help="the only networks an agency's requests are accepted from"
    )
    networks.add_argument("code")
    networks.add_argument("networks", nargs="*", metavar="NETWORK",
                          help="an IP address or CIDR block (10.1.2.0/24)")  # fmt: skip
    networks.add_argument("--anywhere", action="store_true", help="accept them from any address")
    networks.set_defaults(run=_agency_set_networks)
    quota = agency_commands.add_parser("set-quota", help="override an agency's limits")
    quota.add_argument("code")
    quota.add_argument("--per-minute", type=int, help="documents per minute (0: no limit)")
    quota.add_argument("--bytes-per-day", type=int, help="bytes per day (0: no limit)")
    quota.set_defaults(run=_agency_set_quota)
    policy = agency_commands.add_parser(
        "set-signature-policy", help="require signed documents from an agency, or not"
    )
    policy.add_argument("code")
    policy.add_argument("policy", choices=["required", "optional"])
    policy.set_defaults(run=_agency_set_policy)
    password = agency_commands.add_parser("set-password", help="set an agency's password")
    password.add_argument("code")
    new_secret = password.add_mutually_exclusive_group(required=True)
    new_secret.add_argument("--password")
    new_secret.add_argument("--password-stdin", action="store_true")
    password.set_defaults(run=_agency_set_password)
    importing = agency_commands.add_parser(
        "import", help="add or rename agencies from a UTF-8 CSV file with columns code,name"
    )
    importing.add_argument("file", type=Path)
    importing.set_defaults(run=_agency_import)
    listing = agency_commands.add_parser("list", help="list registered agencies")
    listing.add_argument("--parent", metavar="CODE", help="only the direct children of CODE")
    listing.set_defaults(run=_agency_list)
    unlock = agency_commands.add_parser(
        "unlock", help="let an agency locked by wrong passwords sign in again"
    )
    unlock.add_argument("code")
    unlock.set_defaults(run=_agency_unlock)
    for name, active in (("disable", False), ("enable", True)):
        toggle = agency_commands.add_parser(name, help=f"{name} an agency")
        toggle.add_argument("code")
        toggle.set_defaults(run=_agency_toggle, active=active)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=_migrate)

    backup = commands.add_parser("backup", help="copy the SQLite database while the hub runs")
    backup.add_argument("file", type=Path)
    backup.set_defaults(run=_backup)
    restore = commands.add_parser(
        "restore", help="replace the SQLite database with a backup (stop the hub first)"
    )
    restore.add_argument("file", type=Path)
    restore.set_defaults(run=_restore)

    purge = commands.add_parser(
        "purge",
        help="delete the bytes of documents every recipient acknowledged long ago, and old "
        "daily quota counts",
    )
    purge.add_argument(
        "--days", type=int, help="older than this (default: LIENTHONG_RETENTION_DAYS)"
    )
    purge.set_defaults(run=_purge)

    operator = commands.add_parser("operator", help="manage the dashboard's operators")
    operator_commands = operator.add_subparsers(title="operator commands")
    operator_add = operator_commands.add_parser("add", help="add an operator")
    operator_add.add_argument("name")
    operator_secret = operator_add.add_mutually_exclusive_group(required=True)
    operator_secret.add_argument("--password")
    operator_secret.add_argument("--password-stdin", action="store_true")
    operator_add.set_defaults(run=_operator_add)
    operator_unlock = operator_commands.add_parser(
        "unlock", help="let an operator locked by wrong passwords sign in again"
    )
    operator_unlock.add_argument("name")
    operator_unlock.set_defaults(run=_operator_unlock)

    stats = commands.add_parser("stats", help="print the hub's figures per agency")
    stats.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (default: 30 days)")
    stats.add_argument("--agency", help="only this agency")
    stats.add_argument("--stale-hours", type=int, default=24, help="'not picked up' after")
    stats.set_defaults(run=_stats)

    trace = commands.add_parser("trace", help="print a document's timeline at each recipient")
    trace.add_argument("document_id", metavar="DOCUMENT_ID")
    trace.add_argument("--sender", help="only the document this agency sent")
    trace.set_defaults(run=_trace)

    audit = commands.add_parser("audit", help="check and export the evidence log")
    audit_commands = audit.add_subparsers(title="audit commands")
    verify = audit_commands.add_parser("verify", help="walk the evidence chain")
    verify.set_defaults(run=_audit_verify)
    proof = audit_commands.add_parser("proof", help="export the proof of a document's journey")
    proof.add_argument("document_id", metavar="DOCUMENT_ID")
    proof.add_argument("--out", type=Path, help="file to write (default: standard output)")
    proof.set_defaults(run=_audit_proof)
    checkpoint = audit_commands.add_parser("checkpoint", help="sign the chain's head now")
    checkpoint.set_defaults(run=_audit_checkpoint)

    signing = commands.add_parser(
        "generate-signing-key", help="make the hub's checkpoint key and self-signed certificate"
    )
    signing.add_argument("folder", type=Path)
    signing.add_argument("--name", default="LienThong Gateway")
    signing.set_defaults(run=_generate_signing_key)

    key = commands.add_parser("generate-key", help="print a new hub key for LIENTHONG_HUB_KEY")
    key.set_defaults(run=_generate_key)

    export = commands.add_parser("export-wsdl", help="write the contract files into a folder")
    export.add_argument("folder", type=Path)
    export.set_defaults(run=_export_wsdl)
    return parser


def _serve(args, settings: Settings) -> None:
    from gateway.server import serve

    serve(settings)


def _agency_add(args, settings: Settings) -> None:
    if args.via and (args.password or args.password_stdin):
        raise _UserError("an agency reached through a child hub signs in there, not here")
    if not args.via and not (args.password or args.password_stdin):
        raise _UserError("give --password or --password-stdin (or --via HUBCODE)")
    password = "" if args.via else _read_password(args)
    certificate = _read_text(args.cert) if args.cert else None
    agency = _directory(settings).add(
        args.code, args.name, password, allow_digest=args.allow_digest,
        certificate=certificate, via=args.via, endpoint=args.endpoint,
    )  # fmt: skip
    behind = f", through {agency.via}" if agency.via else ""
    print(f"registered {agency.code} ({agency.name}){behind}")


def _agency_set_endpoint(args, settings: Settings) -> None:
    _directory(settings).set_endpoint(args.code, args.url)
    print(f"endpoint {'set' if args.url else 'removed'} for {args.code}")


def _agency_set_networks(args, settings: Settings) -> None:
    if args.anywhere == bool(args.networks):
        raise _UserError("give the agency's networks, or --anywhere")
    _directory(settings).set_networks(args.code, [] if args.anywhere else args.networks)
    where = "any address" if args.anywhere else " ".join(args.networks)
    print(f"{args.code} signs in from {where}")


def _agency_list(args, settings: Settings) -> None:
    agencies = _directory(settings).list(args.parent)
    now = datetime.now(UTC)
    print(f"{'CODE':<20} {'PARENT':<20} {'ACTIVE':<7} {'LOGIN':<7} NAME")
    for agency in agencies:
        login = "digest" if agency.allow_digest else ("yes" if agency.password_hash else "no")
        if agency.via:
            login = f"via {agency.via}"
        elif agency.locked(now):
            login = "locked"
        print(
            f"{agency.code:<20} {agency.parent_code or '-':<20} "
            f"{'yes' if agency.active else 'no':<7} {login:<7} {agency.name}"
            + (f"  [from {agency.networks}]" if agency.networks else "")
        )


def _agency_unlock(args, settings: Settings) -> None:
    _directory(settings).unlock(args.code)
    print(f"unlocked {args.code}")


def _agency_set_cert(args, settings: Settings) -> None:
    _directory(settings).set_certificate(args.code, _read_text(args.file))
    print(f"certificate set for {args.code}")


def _agency_set_quota(args, settings: Settings) -> None:
    _directory(settings).set_quota(
        args.code, per_minute=args.per_minute, bytes_per_day=args.bytes_per_day
    )
    print(f"quota set for {args.code}")


def _agency_set_policy(args, settings: Settings) -> None:
    _directory(settings).set_signature_policy(args.code, args.policy)
    print(f"signatures {args.policy} for {args.code}")


def _purge(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway

    purged = build_gateway(settings).hub.purge(args.days)
    print(f"purged the bytes of {purged} documents; their records and evidence remain")


def _operator_add(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway

    build_gateway(settings).operators.add(args.name, _read_password(args))
    print(f"operator {args.name} added")


def _operator_unlock(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway

    build_gateway(settings).operators.unlock(args.name)
    print(f"operator {args.name} unlocked")


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {text}") from exc


def _stats(args, settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta

    from gateway.bootstrap import build_gateway
    from gateway.hub.quotas import VIETNAM

    gateway = build_gateway(settings)
    now = datetime.now(UTC)
    since = (
        datetime.combine(args.since, datetime.min.time(), VIETNAM)
        if args.since
        else now - timedelta(days=30)
    )
    codes = [args.agency] if args.agency else gateway.hub.active_agencies(since, now)
    print(f"from {since.isoformat()} to {now.isoformat()}")
    if not args.agency:
        print("(agencies with nothing in the period and nothing waiting are left out)")
    print(f"{'AGENCY':<18} {'SENT':>6} {'BYTES':>12} {'RECEIVED':>8} {'ACKED':>6} "
          f"{'PENDING':>7} {'REFUSED':>7}  OLDEST PENDING")  # fmt: skip
    for code in codes:
        figures = gateway.hub.statistics(code, since, now, args.stale_hours)
        age = _age(now - figures.oldest_pending) if figures.oldest_pending else "-"
        print(
            f"{code:<18} {figures.sent:>6} {figures.sent_bytes:>12} {figures.received:>8} "
            f"{figures.acknowledged:>6} {figures.pending:>7} {figures.refused:>7}  {age}"
        )
    stale = gateway.hub.not_picked_up(args.stale_hours)
    if args.agency:
        stale = [s for s in stale if args.agency in (s.sender, s.recipient)]
    print(f"\nnot picked up for more than {args.stale_hours} hours: {len(stale)}")
    for item in stale:
        print(f"  {item.recipient:<18} {_age(now - item.received_at):>10}  from {item.sender}: "
              f"{item.document_id}")  # fmt: skip


def _age(delta) -> str:
    hours, seconds = divmod(int(delta.total_seconds()), 3600)
    return f"{hours}h{seconds // 60:02d}m"


def _trace(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway

    found = build_gateway(settings).hub.trace(args.document_id, args.sender)
    if not found.documents:
        sender = f" from {args.sender}" if args.sender else ""
        raise _UserError(f"no document {args.document_id!r}{sender} was sent through this hub")
    for document in found.documents:
        sender = f"{document.sender} {found.names.get(document.sender, '')}".strip()
        print(f"{document.document_id}  from {sender}  at {document.received_at.isoformat()}")
        if document.subject:
            print(f"  {document.subject}")
        for row in document.recipients:
            latest = row.latest_status
            status = f"{latest.status_code} {latest.description}" if latest else "-"
            print(f"  {row.recipient:<18} {row.transport_state:<13} {status}")
            for entry in row.entries:
                code = f" {entry.status_code}" if entry.status_code else ""
                detail = f": {entry.description}" if entry.description else ""
                print(f"    {entry.at.isoformat()}  {entry.event}{code}{detail}")


def _audit_verify(args, settings: Settings) -> int:
    from gateway.bootstrap import build_gateway

    report = build_gateway(settings).audit.verify()
    if report.intact:
        print(f"evidence chain intact: {report.records} records, {report.checkpoints} checkpoints")
        return 0
    print(f"evidence chain broken at record {report.broken_at}: {report.reason}", file=sys.stderr)
    return 1


def _audit_proof(args, settings: Settings) -> None:
    import json

    from gateway.bootstrap import build_gateway
    from gateway.errors import UnknownDocument

    gateway = build_gateway(settings)
    try:
        proof = gateway.audit.proof(args.document_id)
    except LookupError:
        gateway.hub.checkpoint()
        proof = gateway.audit.proof(args.document_id)
    except UnknownDocument as exc:
        raise _UserError(exc.message) from exc
    text = json.dumps(proof, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text)


def _audit_checkpoint(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway

    try:
        checkpoint = build_gateway(settings).hub.checkpoint()
    except ValueError as exc:
        raise _UserError(exc) from exc
    print(f"checkpoint at record {checkpoint['seq']}: {checkpoint['head_hash']}")


def _generate_signing_key(args, settings: Settings) -> None:
    from gateway.security.keys import self_signed

    key, certificate = self_signed(args.name)
    args.folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = args.folder / "hub-key.pem", args.folder / "hub-cert.pem"
    key_path.touch(mode=0o600)
    key_path.write_bytes(key)
    cert_path.write_bytes(certificate)
    print(f"LIENTHONG_HUB_SIGNING_KEY={key_path}")
    print(f"LIENTHONG_HUB_CERTIFICATE={cert_path}")


def _agency_set_password(args, settings: Settings) -> None:
    password = _read_password(args)
    _directory(settings).set_password(args.code, password)
    print(f"password set for {args.code}")


def _agency_import(args, settings: Settings) -> None:
    import csv

    from tqdm import tqdm

    from gateway.hub.directory import check_import

    def rows(source):
        reader = csv.DictReader(source)
        if not reader.fieldnames or not {"code", "name"} <= set(reader.fieldnames):
            raise _UserError("the CSV file needs a header row with at least code,name")
        return ((row["code"] or "", row["name"] or "") for row in reader)

    try:
        with args.file.open(encoding="utf-8-sig", newline="") as source:
            total = check_import(rows(source))
            source.seek(0)
            with tqdm(total=total, unit=" agencies", file=sys.stderr) as bar:
                count = _directory(settings).import_names(rows(source), progress=bar.update)
    except (AdminError, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _UserError(f"{args.file}: {exc}") from exc
    print(f"imported {count} agencies")


def _agency_toggle(args, settings: Settings) -> None:
    _directory(settings).set_active(args.code, args.active)
    print(f"{'enabled' if args.active else 'disabled'} {args.code}")


def _migrate(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway

    build_gateway(settings)
    print("database is up to date")


def _backup(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway
    from gateway.store.backup import backup

    backup(build_gateway(settings).engine, args.file)
    print(f"backed up to {args.file}")


def _restore(args, settings: Settings) -> None:
    from gateway.bootstrap import build_gateway
    from gateway.store.backup import restore

    gateway = build_gateway(settings, migrate=False)
    restore(gateway.engine, args.file)
    build_gateway(settings)  # a backup from an older release is brought up to date
    print(f"restored from {args.file}")


def _generate_key(args, settings: Settings) -> None:
    from gateway.security.secretbox import SecretBox

    print(SecretBox.generate_key())


def _export_wsdl(args, settings: Settings) -> None:
    from gateway.soap.contract import export_contract

    for path in export_contract(args.folder):
        print(f"wrote {path}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise _UserError(f"{path}: {exc}") from exc


def _read_password(args) -> str:
    return sys.stdin.readline().rstrip("\r\n") if args.password_stdin else args.password


def _directory(settings: Settings):
    from gateway.bootstrap import build_gateway

    return build_gateway(settings).directory


if __name__ == "__main__":
    sys.exit(main())
