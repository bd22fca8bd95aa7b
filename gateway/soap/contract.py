"""The published contract files: the WSDL as served, and the edXML schema."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gateway.settings import Settings
from gateway.soap.application import interface_document

WSDL_FILE = "lienthong.wsdl"
SCHEMA_FILES = ("edxml.xsd",)


def export_contract(folder: Path) -> list[Path]:
    """Write the WSDL (at the default address) and the schemas into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / WSDL_FILE]
    written[0].write_bytes(interface_document(Settings()))
    package = resources.files("gateway.wsdl")
    for name in SCHEMA_FILES:
        target = folder / name
        content = package.joinpath(name).read_bytes()
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)
        written.append(target)
    return written
