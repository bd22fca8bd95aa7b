"""Child-by-child lookups give what lxml's find, iterfind and findtext give."""

import pytest
from lxml import etree

from gateway import xmlpaths

TREE = etree.fromstring(
    '<r xmlns="urn:a"><c><n>A</n></c><!-- x --><o:c xmlns:o="urn:o"><n>0</n></o:c>'
    "<c> <n> 12 </n><n/><n>13</n></c><s>Công văn</s><c><d><n>deep</n></d></c></r>"
)
PATHS = [("c", "n"), ("c",), ("s",), ("missing", "n"), ("c", "d", "n"), ("c", "missing")]


@pytest.mark.parametrize("steps", PATHS, ids="/".join)
def test_lookups_match_lxml(steps):
    tags = tuple("{urn:a}" + step for step in steps)
    path = "/".join(tags)
    assert xmlpaths.first(TREE, *tags) is TREE.find(path)
    assert list(xmlpaths.every(TREE, *tags)) == list(TREE.iterfind(path))
    assert xmlpaths.text(TREE, *tags) == TREE.findtext(path)


def test_an_empty_element_has_empty_text_and_nothing_below_none_has_none():
    empty = etree.fromstring('<r xmlns="urn:a"><n/></r>')
    assert xmlpaths.text(empty, "{urn:a}n") == ""
    assert xmlpaths.first(None, "{urn:a}n") is None
    assert list(xmlpaths.every(None, "{urn:a}n")) == []
