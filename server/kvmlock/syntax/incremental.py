"""Editing a parsed document in place: new bytes, one tree edit, an incremental reparse.

The tree is built from the rewritten text, so an edit of the original is turned into the one
span where the *rewritten* text changed (the rewrite may touch bytes beside the edit, e.g.
when typing completes an iterator macro's name), found as the common prefix and suffix of the
old and new rewritten texts. That span is given to `Tree.edit` and the new text is parsed from
the edited old tree, which lets tree-sitter reuse every subtree outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Point

from kvmlock.syntax import rewrite as _rewrite
from kvmlock.syntax.document import SourceDocument, _shared_parser, line_starts


@dataclass(frozen=True)
class ByteEdit:
    """Replace source[start:end] with `text` (offsets in the text as it is before this edit)."""

    start: int
    end: int
    text: bytes


@dataclass(frozen=True)
class Reparse:
    """Where the rewritten text changed: [start, old_end) became [start, new_end)."""

    start: int
    old_end: int
    new_end: int
    changed_ranges: tuple[tuple[int, int], ...]  # from Tree.changed_ranges, new coordinates

    def touched(self) -> list[tuple[int, int]]:
        """Every byte range (new coordinates) whose syntax may differ: edit plus changes."""
        return [(self.start, max(self.new_end, self.start + 1)), *self.changed_ranges]


def apply_edits(source: bytes, edits: list[ByteEdit]) -> bytes:
    for edit in edits:
        start = max(0, min(edit.start, len(source)))
        end = max(start, min(edit.end, len(source)))
        source = source[:start] + edit.text + source[end:]
    return source


def reparse(doc: SourceDocument, new_source: bytes) -> Reparse:
    """Bring `doc` to `new_source`, reusing its tree. Returns what changed."""
    old_text = doc.text
    old_tree = doc.tree
    rewritten = _rewrite.rewrite(new_source)
    new_text = rewritten.text
    start = _common_prefix(old_text, new_text)
    suffix = _common_suffix(old_text, new_text, start)
    old_end = len(old_text) - suffix
    new_end = len(new_text) - suffix
    old_lines = doc._line_starts
    new_lines = line_starts(new_source)
    old_tree.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old_lines, start),
        old_end_point=_point(old_lines, old_end),
        new_end_point=_point(new_lines, new_end),
    )
    tree = _shared_parser().parse(new_text, old_tree)
    changed = tuple((r.start_byte, r.end_byte) for r in old_tree.changed_ranges(tree))
    doc.source = new_source
    doc.text = new_text
    doc.annotations = rewritten.annotations
    doc.tree = tree
    doc._line_starts = new_lines
    doc._functions = None
    return Reparse(start, old_end, new_end, changed)


def _point(starts: list[int], byte: int) -> Point:
    from bisect import bisect_right

    row = bisect_right(starts, byte) - 1
    return Point(row, byte - starts[row])


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by bisection over slice comparisons (memcmp in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[low:mid] == b[low:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_suffix(a: bytes, b: bytes, prefix: int) -> int:
    """Length of the common suffix that does not overlap the common prefix."""
    limit = min(len(a), len(b)) - prefix
    low, high = 0, limit
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid : len(a) - low] == b[len(b) - mid : len(b) - low]:
            low = mid
        else:
            high = mid - 1
    return low
