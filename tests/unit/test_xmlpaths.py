"""Child-by-child lookups give what lxml's find, iterfind and findtext give."""

import pytest
from lxml import etree

from gateway.xmlpaths import ChildIndex

TREE = etree.fromstring(
    '<r xmlns="urn:a"><c><n>A</n></c><!-- x --><o:c xmlns:o="urn:o"><n>0</n></o:c>'
    "<c> <n> 12 </n><?n x?><n/><n>13</n></c><s>Công văn</s><c><d><n>deep</n></d></c></r>"
)
PATHS = [("c", "n"), ("c",), ("s",), ("missing", "n"), ("c", "d", "n"), ("c", "missing")]


@pytest.mark.parametrize("steps", PATHS, ids="/".join)
def test_lookups_match_lxml(steps):
    tags = tuple("{urn:a}" + step for step in steps)
    path = "/".join(tags)
    assert ChildIndex().first(TREE, *tags) is TREE.find(path)
    assert list(ChildIndex().every(TREE, *tags)) == list(TREE.iterfind(path))
    assert ChildIndex().text(TREE, *tags) == TREE.findtext(path)


def test_one_index_answers_every_path_of_a_tree_as_fresh_ones_do():
    index = ChildIndex()
    for steps in PATHS * 2:
        tags = tuple("{urn:a}" + step for step in steps)
        assert index.first(TREE, *tags) is ChildIndex().first(TREE, *tags)
        assert list(index.every(TREE, *tags)) == list(ChildIndex().every(TREE, *tags))
    assert index.children(TREE, "{urn:a}c") == list(TREE.iterchildren("{urn:a}c"))


def test_an_empty_element_has_empty_text_and_nothing_below_none_has_none():
    empty = etree.fromstring('<r xmlns="urn:a"><n/></r>')
    assert ChildIndex().text(empty, "{urn:a}n") == ""
    assert ChildIndex().first(None, "{urn:a}n") is None
    assert list(ChildIndex().every(None, "{urn:a}n")) == []
