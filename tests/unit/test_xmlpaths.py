"""Lookups among an element's children give what lxml's find, findall and findtext give."""

import pytest
from lxml import etree

from gateway.xmlpaths import Children

TREE = etree.fromstring(
    '<r xmlns="urn:a"><c><n>A</n></c><!-- x --><o:c xmlns:o="urn:o"><n>0</n></o:c>'
    "<c> <n> 12 </n><?n x?><n/><n>13</n></c><s>Công văn</s><c><d><n>deep</n></d></c>"
    "<e><!-- x --><n/></e></r>"
)
PATHS = [("c", "n"), ("c",), ("s",), ("missing", "n"), ("c", "d"), ("c", "missing"), ("e", "n")]


@pytest.mark.parametrize("steps", PATHS, ids="/".join)
def test_lookups_match_lxml(steps):
    tags = ["{urn:a}" + step for step in steps]
    children = Children(TREE)
    assert children.text(*tags) == TREE.findtext("/".join(tags))
    assert children.first(tags[0]) is TREE.find(tags[0])
    assert children.every(tags[0]) == TREE.findall(tags[0])


def test_an_empty_element_has_empty_text_and_none_has_no_children():
    assert Children(etree.fromstring('<r xmlns="urn:a"><n/></r>')).text("{urn:a}n") == ""
    assert Children(None).first("{urn:a}n") is None
    assert Children(None).every("{urn:a}n") == []
    assert Children(None).text("{urn:a}n") is None
