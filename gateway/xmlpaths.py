"""Elements found through their tags, child by child: what lxml's ``find``, ``iterfind`` and
``findtext`` give for a path of plain child steps, several times faster.

lxml parses a ``find`` path in Python on every call, and ``iterchildren(tag)`` builds a tag
matcher on every call (about 10,000 instructions a step). A ``ChildIndex`` asks lxml for an
element's children once, in one call, and files them by tag; the many paths read from one
tree (an edXML header, a WS-Security token) then share the steps they have in common.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree


class ChildIndex:
    """Lookups below the elements of one tree, each element's children read once.

    It keeps the elements it has read: one index for one tree, while it is read."""

    def __init__(self):
        self._by_parent: dict[etree._Element, dict] = {}

    def children(self, parent: etree._Element, tag: str) -> list[etree._Element]:
        """``parent``'s children of tag ``tag``, in document order."""
        by_tag = self._by_parent.get(parent)
        if by_tag is None:
            by_tag = {}
            for child in parent.getchildren():
                # (a comment's or processing instruction's tag is a function, never a name)
                by_tag.setdefault(child.tag, []).append(child)
            self._by_parent[parent] = by_tag
        return by_tag.get(tag, [])

    def first(self, parent: etree._Element | None, *tags: str) -> etree._Element | None:
        """The first element, in document order, at the path ``tags`` below ``parent``."""
        if parent is None:
            return None
        tag, rest = tags[0], tags[1:]
        for child in self.children(parent, tag):
            found = self.first(child, *rest) if rest else child
            if found is not None:
                return found
        return None

    def every(self, parent: etree._Element | None, *tags: str) -> Iterator[etree._Element]:
        """The elements at the path ``tags`` below ``parent``, in document order."""
        if parent is None:
            return
        tag, rest = tags[0], tags[1:]
        for child in self.children(parent, tag):
            if rest:
                yield from self.every(child, *rest)
            else:
                yield child

    def text(self, parent: etree._Element | None, *tags: str) -> str | None:
        """The text of ``first(parent, *tags)``: "" if it has none, None if there is none."""
        found = self.first(parent, *tags)
        return None if found is None else found.text or ""
