"""``lienthong``: send, fetch and acknowledge edXML documents through a hub."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from client.connector import Connector, Message, folder_writer
from client.errors import ConnectorError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    password = os.environ.get(args.password_env)
    if password is None:
        print(f"error: set the agency's password in ${args.password_env}", file=sys.stderr)
        return 2
    try:
        connector = Connector(
            args.url, args.agency, password, use_digest=args.digest, wsdl=args.wsdl
        )
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
        required="LIENTHONG_AGENCY" not in os.environ,
        help="this agency's code",
    )
    parser.add_argument(
        "--password-env",
        default="LIENTHONG_PASSWORD",
        metavar="VAR",
        help="environment variable holding the password (default LIENTHONG_PASSWORD)",
    )
    parser.add_argument("--digest", action="store_true", help="send a PasswordDigest")
    parser.add_argument("--wsdl", help="read the WSDL from this file or URL instead of URL?wsdl")
    commands = parser.add_subparsers(title="commands")

    send = commands.add_parser("send", help="send edXML files")
    send.add_argument("files", nargs="+", type=Path, metavar="FILE")
    send.set_defaults(run=_send)

    fetch = commands.add_parser("fetch", help="save pending messages into a folder")
    fetch.add_argument("--out", type=Path, required=True, metavar="DIR")
    fetch.add_argument("--ack", action="store_true", help="acknowledge each saved message")
    fetch.add_argument("--max", type=int, default=10, help="messages per request (1-100)")
    fetch.set_defaults(run=_fetch)

    receive = commands.add_parser(
        "receive", help="keep saving and acknowledging messages until interrupted"
    )
    receive.add_argument("--out", type=Path, required=True, metavar="DIR")
    receive.add_argument("--interval", type=float, default=30, help="seconds between polls")
    receive.set_defaults(run=_receive)

    ack = commands.add_parser("ack", help="acknowledge messages by MessageId")
    ack.add_argument("message_ids", nargs="+", metavar="ID")
    ack.set_defaults(run=_ack)
    return parser


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


def _fetch(connector: Connector, args) -> None:
    write = folder_writer(args.out)

    def save(message: Message) -> None:
        path = write(message)
        print(f"{path}  {message.kind} from {message.sender}: {message.document_id}")

    if args.ack:
        connector.receive(save, max_count=args.max)
    else:
        for message in connector.fetch(args.max):
            save(message)


def _receive(connector: Connector, args) -> None:
    write = folder_writer(args.out)

    def save(message: Message) -> None:
        print(f"{write(message)}  {message.kind} from {message.sender}: {message.document_id}")

    try:
        connector.receive(save, poll_interval=args.interval)
    except KeyboardInterrupt:
        pass


def _ack(connector: Connector, args) -> int:
    outcome = connector.ack(args.message_ids)
    print(f"acknowledged {outcome.acknowledged}")
    for message_id in outcome.unknown:
        print(f"unknown {message_id}", file=sys.stderr)
    return 1 if outcome.unknown else 0


if __name__ == "__main__":
    sys.exit(main())
