"""``lienthong``: send, fetch and acknowledge edXML documents through a hub."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from client.connector import Connector, Message, folder_writer
from client.direct import DirectSender, FileDirectory, HubDirectory, Outcome
from client.errors import ConnectorError
from client.outbox import DELIVERED, Outbox


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    if args.run is _verify_proof:
        return _verify_proof(args)
    if not args.agency:
        print("error: give --agency or set LIENTHONG_AGENCY", file=sys.stderr)
        return 2
    password = os.environ.get(args.password_env)
    if password is None:
        print(f"error: set the agency's password in ${args.password_env}", file=sys.stderr)
        return 2
    try:
        key, cert = _signing_files(args)
        if getattr(args, "direct", False):
            return _send_direct(_direct_sender(args, password, key, cert), args)
        if getattr(args, "outbox", False):
            return args.run(_direct_sender(args, password, key, cert), args) or 0
        connector = Connector(
            args.url, args.agency, password, use_digest=args.digest, wsdl=args.wsdl,
            key=key, cert=cert, retry_for=args.retry_for, on_retry=_say_retry,
            compress=args.compress,
        )  # fmt: skip
        return args.run(connector, args) or 0
    except ConnectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lienthong", description=__doc__)
    parser.add_argument(
        "--url",
        default=os.environ.get("LIENTHONG_URL", "http://127.0.0.1:8080/soap"),
        help="the hub's SOAP address (default: $LIENTHONG_URL or http://127.0.0.1:8080/soap)",
    )
    parser.add_argument(
        "--agency",
        default=os.environ.get("LIENTHONG_AGENCY"),
        help="this agency's code",
    )
    parser.add_argument(
        "--password-env",
        default="LIENTHONG_PASSWORD",
        metavar="VAR",
        help="environment variable holding the password (default LIENTHONG_PASSWORD)",
    )
    parser.add_argument("--digest", action="store_true", help="send a PasswordDigest")
    parser.add_argument(
        "--retry-for",
        type=float,
        default=120,
        metavar="SECONDS",
        help="keep retrying a busy or unreachable hub this long (default 120)",
    )
    parser.add_argument(
        "--compress",
        action="store_true",
        default=os.environ.get("LIENTHONG_COMPRESS", "") not in ("", "0"),
        help="send requests of 64 KiB and more gzip-compressed (default: $LIENTHONG_COMPRESS)",
    )
    parser.add_argument("--wsdl", help="read the WSDL from this file or URL instead of URL?wsdl")
    parser.add_argument(
        "--directory",
        type=Path,
        metavar="FILE",
        help="direct sending: JSON file mapping agency codes to their inbox addresses, or "
        'to {"url": ..., "password_env": VAR} where an inbox issued its own password '
        "(default: the directory of the hub at --url)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("LIENTHONG_DATA_DIR", "lienthong-data")),
        metavar="DIR",
        help="where the outbox of direct sends is kept (default: $LIENTHONG_DATA_DIR "
        "or ./lienthong-data)",
    )
    commands = parser.add_subparsers(title="commands")

    send = commands.add_parser("send", help="send edXML files")
    send.add_argument("files", nargs="+", type=Path, metavar="FILE")
    send.add_argument("--key", type=Path, help="PEM private key: sign each document")
    send.add_argument("--cert", type=Path, help="PEM certificate of that key")
    send.add_argument(
        "--direct",
        action="store_true",
        help="send straight to each recipient's own inbox, through the local outbox",
    )
    send.set_defaults(run=_send)

    outbox = commands.add_parser("outbox", help="list direct sends still waiting, and why")
    outbox.set_defaults(run=_outbox_list, outbox=True)
    outbox_commands = outbox.add_subparsers(title="outbox commands")
    flush = outbox_commands.add_parser("flush", help="retry every waiting send now")
    flush.set_defaults(run=_outbox_flush, outbox=True)
    keep = outbox_commands.add_parser(
        "run", help="keep delivering waiting sends as they fall due, until interrupted"
    )
    keep.add_argument("--interval", type=float, default=10, help="seconds between looks")
    keep.set_defaults(run=_outbox_run, outbox=True)

    fetch = commands.add_parser("fetch", help="save pending messages into a folder")
    fetch.add_argument("--out", type=Path, required=True, metavar="DIR")
    fetch.add_argument("--ack", action="store_true", help="acknowledge each saved message")
    fetch.add_argument("--max", type=int, default=10, help="messages per request (1-100)")
    fetch.add_argument(
        "--verify",
        action="store_true",
        help="check signatures against the senders' certificates; keep invalid ones out",
    )
    fetch.set_defaults(run=_fetch)

    receive = commands.add_parser(
        "receive", help="keep saving and acknowledging messages until interrupted"
    )
    receive.add_argument("--out", type=Path, required=True, metavar="DIR")
    receive.add_argument("--interval", type=float, default=30, help="seconds between polls")
    receive.set_defaults(run=_receive)

    status = commands.add_parser("status", help="show a document's delivery timeline")
    status.add_argument("document_id", metavar="DOCUMENT_ID")
    status.add_argument("--events", action="store_true", help="list every event, too")
    status.set_defaults(run=_status)

    status_send = commands.add_parser(
        "status-send", help="send a status message (01-06, 15, 16; 13 takes a document back)"
    )
    status_send.add_argument("document_id", metavar="DOCUMENT_ID")
    status_send.add_argument("code", choices=["01", "02", "03", "04", "05", "06", "13", "15", "16"])
    status_send.add_argument("--description", default="")
    status_send.add_argument("--staff", default="")
    status_send.add_argument("--department", default="")
    status_send.set_defaults(run=_status_send)

    stats = commands.add_parser("stats", help="this agency's figures for the last 30 days")
    stats.set_defaults(run=_stats)

    agencies = commands.add_parser("agencies", help="list the hub's agency directory")
    agencies.add_argument("--parent", metavar="CODE", help="only the direct children of CODE")
    agencies.set_defaults(run=_agencies)

    proof = commands.add_parser(
        "verify-proof", help="check an evidence proof from the hub, offline"
    )
    proof.add_argument("file", type=Path)
    proof.add_argument("--hub-cert", type=Path, required=True, help="the hub's certificate")
    proof.set_defaults(run=_verify_proof)

    ack = commands.add_parser("ack", help="acknowledge messages by MessageId")
    ack.add_argument("message_ids", nargs="+", metavar="ID")
    ack.set_defaults(run=_ack)
    return parser


def _direct_sender(args, password: str, key, cert) -> DirectSender:
    if args.directory is not None:
        directory = FileDirectory(args.directory)
    else:

        def hub_agencies():
            return Connector(args.url, args.agency, password, use_digest=args.digest,
                             wsdl=args.wsdl, retry_for=args.retry_for).agencies()  # fmt: skip

        directory = HubDirectory(hub_agencies)
    outbox = Outbox(args.data_dir / f"outbox-{args.agency}.sqlite3")
    return DirectSender(
        args.agency, password, outbox, directory, key=key, cert=cert, compress=args.compress
    )


def _send_direct(sender: DirectSender, args) -> int:
    problems = 0
    for path in args.files:
        try:
            outcomes = sender.send(path.read_bytes())
        except (OSError, ConnectorError) as exc:
            print(f"{path}: not sent: {exc}", file=sys.stderr)
            problems += 1
            continue
        print(f"{path}:")
        problems += _print_outcomes(outcomes)
    return 1 if problems else 0


def _print_outcomes(outcomes: list[Outcome]) -> int:
    """Print one line per recipient; return how many are not delivered."""
    for outcome in outcomes:
        print(f"  {outcome.recipient:<20} {outcome.state:<10} {outcome.document_id}  "
              f"{outcome.detail}")  # fmt: skip
    return sum(outcome.state != DELIVERED for outcome in outcomes)


def _outbox_list(sender: DirectSender, args) -> int:
    entries = sender.pending()
    print(f"{'RECIPIENT':<20} {'STATE':<8} {'TRIES':>5}  {'NEXT TRY':<25} DOCUMENT / REASON")
    for entry in entries:
        next_try = datetime.fromtimestamp(entry.next_attempt_at, UTC).isoformat(timespec="seconds")
        next_try = next_try if entry.state == "waiting" else "-"
        print(f"{entry.recipient:<20} {entry.state:<8} {entry.attempts:>5}  "
              f"{next_try:<25} {entry.document_id}")  # fmt: skip
        if entry.last_error:
            print(f"    {entry.last_error}")
    print(f"{len(entries)} not delivered")
    return 0


def _outbox_flush(sender: DirectSender, args) -> int:
    outcomes = sender.flush()
    if not outcomes:
        print("nothing waits")
    return 1 if _print_outcomes(outcomes) else 0


def _outbox_run(sender: DirectSender, args) -> int:
    try:
        while True:
            _print_outcomes(sender.flush(everything=False))
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def _send(connector: Connector, args) -> int:
    failed = 0
    for path in args.files:
        try:
            receipt = connector.send(path.read_bytes())
        except ConnectorError as exc:
            print(f"{path}: refused: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: accepted {receipt.document_id} at {receipt.received_at.isoformat()}")
        for delivery in receipt.deliveries:
            print(f"  {delivery.recipient}  {delivery.message_id}  {delivery.state}")
    return 1 if failed else 0


def _fetch(connector: Connector, args) -> int:
    write = folder_writer(args.out)
    refused = []

    def save(message: Message) -> None:
        if message.verification.startswith("invalid"):
            refused.append(message)
            print(f"{message.message_id}  NOT SAVED: {message.verification}", file=sys.stderr)
            raise ValueError(message.verification)
        path = write(message)
        checked = f"  [{message.verification}]" if message.verification else ""
        print(f"{path}  {message.kind} from {message.sender}: {message.document_id}{checked}")

    if args.ack:
        connector.receive(save, max_count=args.max, verify=args.verify)
    else:
        for message in connector.fetch(args.max, verify=args.verify):
            try:
                save(message)
            except ValueError:
                continue
    return 1 if refused else 0


def _verify_proof(args) -> int:
    import json

    from gateway.security.evidence import verify_proof

    try:
        proof = json.loads(args.file.read_text(encoding="utf-8"))
        problems = verify_proof(proof, args.hub_cert.read_text(encoding="ascii"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: cannot read the proof: {exc}", file=sys.stderr)
        return 2
    if problems:
        for problem in problems:
            print(f"proof fails: {problem}", file=sys.stderr)
        return 1
    about = [r for r in proof["records"] if "kind" in r]
    print(f"proof holds: {len(about)} records about {proof['document_id']}, "
          f"signed checkpoint at record {proof['checkpoint']['seq']}")  # fmt: skip
    for record in about:
        print(f"  {record['at']}  {record['kind']:<13} {record['agency']:<16} {record['detail']}")
    return 0


def _say_retry(error: Exception, delay: float) -> None:
    print(f"hub not ready ({error}); retrying in {delay:.1f} s", file=sys.stderr)


def _signing_files(args) -> tuple[bytes | None, bytes | None]:
    key, cert = getattr(args, "key", None), getattr(args, "cert", None)
    if (key is None) != (cert is None):
        raise ConnectorError("--key and --cert go together")
    if key is None:
        return None, None
    try:
        return key.read_bytes(), cert.read_bytes()
    except OSError as exc:
        raise ConnectorError(str(exc)) from exc


def _receive(connector: Connector, args) -> None:
    write = folder_writer(args.out)

    def save(message: Message) -> None:
        print(f"{write(message)}  {message.kind} from {message.sender}: {message.document_id}")

    try:
        connector.receive(save, poll_interval=args.interval)
    except KeyboardInterrupt:
        pass


def _status(connector: Connector, args) -> None:
    status = connector.status(args.document_id)
    print(f"{status.document_id}  from {status.sender}  at {status.received_at.isoformat()}")
    print(f"{'RECIPIENT':<20} {'TRANSPORT':<13} {'STATUS':<7} {'STATUS AT':<26} DESCRIPTION")
    for row in status.recipients:
        at = row.latest_status_at.isoformat() if row.latest_status_at else "-"
        print(
            f"{row.recipient:<20} {row.transport_state:<13} {row.latest_status_code or '-':<7} "
            f"{at:<26} {row.latest_status_description}"
        )
        if args.events:
            for event in row.events:
                code = f" {event.status_code}" if event.status_code else ""
                print(f"    {event.at.isoformat()}  {event.event}{code}  {event.description}")


def _status_send(connector: Connector, args) -> None:
    receipt = connector.send_status(
        args.document_id,
        args.code,
        args.description,
        staff=args.staff,
        department=args.department,
    )
    for delivery in receipt.deliveries:
        print(
            f"status {args.code} to {delivery.recipient}  {delivery.message_id}  {delivery.state}"
        )


def _stats(connector: Connector, args) -> None:
    figures = connector.statistics()
    for name in ("Sent", "SentBytes", "Received", "Acknowledged", "Pending", "Refused"):
        print(f"{name:<14} {figures[name]:>10}")
    if figures.get("OldestPendingAt"):
        print(f"{'OldestPending':<14} {figures['OldestPendingAt'].isoformat()}")
    for day in figures.get("Days") or []:
        print(f"  {day['Day'].isoformat()}  {day['Sent']:>6} sent  {day['Bytes']:>12} bytes")
    for waiting in figures.get("NotPickedUp") or []:
        print(f"  not picked up by {waiting['Recipient']}: {waiting['DocumentId']}")


def _agencies(connector: Connector, args) -> None:
    print(f"{'CODE':<20} {'PARENT':<20} {'ACTIVE':<7} NAME")
    for agency in connector.agencies(args.parent):
        active = "yes" if agency.active else "no"
        print(f"{agency.code:<20} {agency.parent_code or '-':<20} {active:<7} {agency.name}")


def _ack(connector: Connector, args) -> int:
    outcome = connector.ack(args.message_ids)
    print(f"acknowledged {outcome.acknowledged}")
    for message_id in outcome.unknown:
        print(f"unknown {message_id}", file=sys.stderr)
    return 1 if outcome.unknown else 0


if __name__ == "__main__":
    sys.exit(main())
