"""An element's children found by tag: what lxml's ``find``, ``findall`` and ``findtext``
give for paths of one or two plain child steps, several times faster.

lxml parses a ``find`` path in Python on every call, and ``iterchildren(tag)`` builds a tag
matcher on every call (about 10,000 instructions a step). ``Children`` asks lxml for each
child's tag once and files the children by it; the many fields read from one element
(an edXML header, a WS-Security token) are then dictionary lookups.
"""

from __future__ import annotations

from lxml import etree


class Children:
    """The child elements of one element (or of none), filed by tag in document order.
    Comments and processing instructions are passed over."""

    __slots__ = ("_by_tag",)

    def __init__(self, parent: etree._Element | None):
        by_tag: dict[str, list[etree._Element]] = {}
        for child in () if parent is None else parent:
            tag = child.tag
            if tag.__class__ is str:  # a comment's or instruction's tag is a function
                same = by_tag.get(tag)
                if same is None:
                    by_tag[tag] = [child]
                else:
                    same.append(child)
        self._by_tag = by_tag

    def every(self, tag: str) -> list[etree._Element]:
        """The children of tag ``tag``."""
        return self._by_tag.get(tag, [])

    def first(self, tag: str) -> etree._Element | None:
        """The first child of tag ``tag``."""
        found = self._by_tag.get(tag)
        return found[0] if found else None

    def text(self, tag: str, below: str | None = None) -> str | None:
        """``findtext("tag")``, or ``findtext("tag/below")`` with ``below``: the text of
        the first element at that path ("" if it has none), None if there is none."""
        for child in self._by_tag.get(tag, ()):
            if below is None:
                return child.text or ""
            for grandchild in child:
                if grandchild.tag == below:
                    return grandchild.text or ""
        return None
