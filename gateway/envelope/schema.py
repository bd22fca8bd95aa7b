"""Validation of an edXML tree against the gateway's own XSD (wsdl/edxml.xsd)."""

from __future__ import annotations

import functools
import re
from importlib import resources

from lxml import etree

from gateway.errors import InvalidDocument


def contract_file(name: str) -> bytes:
    """The bytes of a file of the published contract (``wsdl/``)."""
    return resources.files("gateway.wsdl").joinpath(name).read_bytes()


_PREFIX = re.compile(r"[\w.-]+:")


@functools.lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(contract_file("edxml.xsd"), parser))


def validate(root: etree._Element) -> None:
    """Raise :class:`InvalidDocument` with the first schema error and its path."""
    schema = _schema()
    if schema.validate(root):
        return
    error = schema.error_log[0]
    raise InvalidDocument(error.message, path=readable_path(root, error.path))


def readable_path(root: etree._Element, xpath: str | None) -> str | None:
    """Turn libxml2's ``/*/*[2]/*`` or ``/edXML:edXML/...`` into ``/edXML/...`` local names."""
    if not xpath:
        return None
    if "*" not in xpath:
        return _PREFIX.sub("", xpath)
    try:
        found = root.getroottree().xpath(xpath)
    except etree.XPathError:
        return xpath
    if not found or not isinstance(found[0], etree._Element):
        return xpath
    return element_path(found[0])


def element_path(element: etree._Element) -> str:
    names = [etree.QName(e).localname for e in (element, *element.iterancestors())]
    return "/" + "/".join(reversed(names))
