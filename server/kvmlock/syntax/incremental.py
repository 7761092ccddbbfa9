"""Editing a parsed document in place: new bytes, one tree edit, an incremental reparse.

The tree is built from the rewritten text, so an edit of the original is turned into the one
span where the *rewritten* text changed (the rewrite may touch bytes beside the edit, e.g.
when typing completes an iterator macro's name), found as the common prefix and suffix of the
old and new rewritten texts. That span is given to `Tree.edit` and the new text is parsed from
the edited old tree, which lets tree-sitter reuse every subtree outside it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache

from tree_sitter import Node, Parser, Point, Range, Tree

from kvmlock.syntax import rewrite as _rewrite
from kvmlock.syntax.document import LineStarts, SourceDocument, _shared_parser, new_parser
from kvmlock.syntax.functions import (
    _CONTAINERS,
    FunctionInfo,
    Shift,
    _acceptable,
    _function_info,
    _swallowed_neighbours,
)


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
    line_delta: int = 0  # lines added (or removed, negative)
    # The edited function parsed on its own (root of a tree over its range only), when the
    # edit stayed inside it; the document's whole-file tree then lags (see SourceDocument).
    local_root: Node | None = None

    def touched(self) -> list[tuple[int, int]]:
        """Every byte range (new coordinates) whose syntax may differ: edit plus changes."""
        return [(self.start, max(self.new_end, self.start + 1)), *self.changed_ranges]


def apply_edits(source: bytes, edits: list[ByteEdit]) -> bytes:
    for edit in edits:
        start = max(0, min(edit.start, len(source)))
        end = max(start, min(edit.end, len(source)))
        source = spliced(source, start, end, edit.text)
    return source


def spliced(data: bytes, start: int, end: int, middle: bytes) -> bytes:
    """data[:start] + middle + data[end:], copying the file once instead of three times
    (slices of bytes are copies; of a memoryview they are not)."""
    view = memoryview(data)
    return b"".join((view[:start], middle, view[end:]))


def reparse(
    doc: SourceDocument, new_source: bytes, hint: tuple[int, int, int] | None = None
) -> Reparse:
    """Bring `doc` to `new_source`, reusing its tree. Returns what changed.

    `hint`, when the caller knows it: (start, old_end, new_end) in the source, a range
    outside of which the old and new bytes are the same — it spares comparing whole files.

    An edit inside one function that the windowed rewrite could handle is parsed in that
    function's range alone: tree-sitter's reparse of the whole file walks every top-level
    item (~4 ms on x86.c), the function's range takes ~0.05 ms and gives the same subtree.
    """
    old_text = doc.text
    window = _rewrite_window(doc, new_source, checked_hint(hint, doc.source, new_source))
    rewritten = window.rewritten if window is not None else _rewrite.rewrite(new_source)
    new_text = rewritten.text
    if window is not None:  # the texts differ inside the window only
        first = window.start
        old_chunk, new_chunk = old_text[first : window.old_end], new_text[first : window.end]
        start = first + _common_prefix(old_chunk, new_chunk)
        suffix = _common_suffix(old_chunk, new_chunk, start - first)
        old_end, new_end = window.old_end - suffix, window.end - suffix
    else:
        start = _common_prefix(old_text, new_text)
        suffix = _common_suffix(old_text, new_text, start)
        old_end = len(old_text) - suffix
        new_end = len(new_text) - suffix
    lines = doc._line_starts
    old_line_count = len(lines)
    start_point, old_end_point = _point(lines, start), _point(lines, old_end)
    # The rewrite keeps every newline: the rewritten text's line starts are the source's.
    lines.edit(new_text, start, old_end, new_end)
    old_tree = doc._tree  # possibly lagging: edits pile up on it in order
    edit = {
        "start_byte": start,
        "old_end_byte": old_end,
        "new_end_byte": new_end,
        "start_point": start_point,
        "old_end_point": old_end_point,
        "new_end_point": _point(lines, new_end),
    }
    old_tree.edit(**edit)
    # The last edit's function parsed alone, when this edit is in the same one.
    window_tree = doc.window_tree
    if window is None or doc.last_window != (window.start, window.old_end):
        window_tree = None
    doc.window_tree = None
    was_clean = doc.clean
    doc.source = new_source
    doc.text = new_text
    doc.annotations = rewritten.annotations
    doc._functions = None
    doc.generation += 1
    line_delta = len(lines) - old_line_count
    if window is not None and was_clean:
        if window_tree is not None:
            window_tree.edit(**edit)
        local = _parse_window(new_text, lines, window.start, window.end, window_tree)
        if local is not None:
            local_root, doc.window_tree = local
            doc.defer_tree(old_tree)
            doc.last_window = (window.start, window.end)
            changed = ((window.start, window.end),)
            return Reparse(start, old_end, new_end, changed, line_delta, local_root)
    tree = _shared_parser().parse(new_text, old_tree)
    changed = tuple((r.start_byte, r.end_byte) for r in old_tree.changed_ranges(tree))
    if tree.root_node.has_error:
        # Error recovery may settle differently when parsing from an old tree (the edit
        # property test finds such texts); a fresh parse keeps the result identical to
        # opening the file anew. The rewrite leaves real KVM files free of errors, so this
        # costs only while the code being typed does not parse.
        tree = _shared_parser().parse(new_text)
        changed = ((start, len(new_text)),)
    doc.set_tree(tree)
    doc.last_window = None
    return Reparse(start, old_end, new_end, changed, line_delta)


@lru_cache(maxsize=1)
def _window_parser() -> Parser:
    return new_parser()  # its included_ranges change per call: not the shared parser


def _parse_window(
    text: bytes, lines: LineStarts, start: int, end: int, old: Tree | None = None
) -> tuple[Node, Tree] | None:
    """The root (and tree) of a parse of text[start:end] alone (absolute positions), if that
    range is one error-free function definition: the same subtree the whole file's parse
    holds there (checked on every function of the real corpus, and by the edit property
    test). `old`: the last parse of the same function, edited, to reparse from — typing on in
    one function reuses what the edit left alone (~90 µs for a fresh parse of a 15-line
    function, a few µs from its last tree)."""
    parser = _window_parser()
    parser.included_ranges = [Range(_point(lines, start), _point(lines, end), start, end)]
    tree = parser.parse(text, old) if old is not None else parser.parse(text)
    root = tree.root_node
    if root.has_error or root.named_child_count != 1:
        return None
    node = root.named_children[0]
    if node.type != "function_definition" or (node.start_byte, node.end_byte) != (start, end):
        return None
    return root, tree


# Bytes whose insertion or removal can change how text far away is read (comments,
# strings, preprocessor lines, line continuations, braces that end or extend a function):
# such edits rewrite the whole file.
_CONTEXTUAL = re.compile(rb"/\*|\*/|//|[\"'#\\{}]")


@dataclass(frozen=True)
class _Window:
    rewritten: _rewrite.Rewritten  # the whole file's
    start: int  # the edited function's range in the new text
    end: int
    old_end: int  # its end in the old text


def checked_hint(
    hint: tuple[int, int, int] | None, old: bytes, new: bytes
) -> tuple[int, int, int] | None:
    """`hint` if it can describe an edit from `old` to `new`, else None."""
    if hint is None:
        return None
    start, old_end, new_end = hint
    consistent = (
        0 <= start <= old_end <= len(old)
        and start <= new_end <= len(new)
        and len(old) - old_end == len(new) - new_end
    )
    return hint if consistent else None


def _rewrite_window(
    doc: SourceDocument, new_source: bytes, hint: tuple[int, int, int] | None
) -> _Window | None:
    """Rewrite only the function an edit falls in, when that gives the whole-file result.

    The function's old text must rewrite the same on its own as in the file (nothing from
    outside reaches into it), and the edit must not add or remove comment, string or
    preprocessor syntax. Otherwise None: the caller rewrites the whole file.
    """
    functions = doc._functions
    old_source = doc.source
    if not functions or len(old_source) != len(doc.text):
        return None
    if hint is not None:
        start, old_end, new_end = hint
    else:
        start = _common_prefix(old_source, new_source)
        suffix = _common_suffix(old_source, new_source, start)
        old_end, new_end = len(old_source) - suffix, len(new_source) - suffix
    # One byte of margin each side: removing the `/` of `/*` changes a comment too.
    low = max(start - 1, 0)
    if _CONTEXTUAL.search(old_source, low, old_end + 1) or _CONTEXTUAL.search(
        new_source, low, new_end + 1
    ):
        return None
    if _touches_column_zero(new_source, start, new_end):
        return None  # file-scope rules look at column-0 lines; inside a body there are few
    index = bisect_right(functions, start, key=_start) - 1
    if index < 0 or functions[index].end_byte < old_end:
        return None
    first, last = functions[index].start_byte, functions[index].end_byte
    if old_source[last - 2 : last] != b"\n}" and _paren_balance(
        old_source, start, old_end
    ) != _paren_balance(new_source, start, new_end):
        # The whole-file rewrite counts parentheses across a body that does not end with a
        # column-0 `}` (see rewrite._awkward_positions): a `(` typed here could change how
        # the #if groups of the functions after it are read.
        return None
    if doc.last_window != (first, last) and (
        _rewrite.rewrite(old_source[first:last]).text != doc.text[first:last]
    ):
        return None  # (the last window's function was rewritten on its own: no need to ask)
    delta = new_end - old_end
    chunk = _rewrite.rewrite(new_source[first : last + delta])
    text = spliced(doc.text, first, last, chunk.text)
    annotations = [
        *(a for a in doc.annotations if a.end_byte <= first),
        *(replace(a, start_byte=a.start_byte + first, end_byte=a.end_byte + first)
          for a in chunk.annotations),
        *(replace(a, start_byte=a.start_byte + delta, end_byte=a.end_byte + delta)
          for a in doc.annotations if a.start_byte >= last),
    ]
    return _Window(
        _rewrite.Rewritten(text=text, annotations=annotations), first, last + delta, last
    )


def _paren_balance(data: bytes, start: int, end: int) -> int:
    return data.count(b"(", start, end) - data.count(b")", start, end)


def _touches_column_zero(source: bytes, start: int, end: int) -> bool:
    """Whether a line the edit touches starts with something other than indentation."""
    line = source.rfind(b"\n", 0, start) + 1
    while line <= end and line < len(source):
        if source[line : line + 1] not in b" \t\n":
            return True
        next_line = source.find(b"\n", line, end + 1)
        if next_line < 0:
            break
        line = next_line + 1
    return False


def _point(starts: LineStarts, byte: int) -> Point:
    row = starts.row(byte)
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


@dataclass(frozen=True)
class Reindexed:
    """The new index: `kept_before` entries kept as they were, then re-read ones, then
    `kept_after` entries moved by the change's byte delta."""

    functions: list[FunctionInfo]
    kept_before: int
    kept_after: int


def reindex(
    doc: SourceDocument, previous: list[FunctionInfo], change: Reparse
) -> Reindexed | None:
    """The function index after `change`, re-reading only the part of the tree it touched.

    Entries before the change are kept, entries after it are moved; their nodes belong to an
    older tree (see `current_node`). Moving costs O(1): the entries after the edit share one
    `Shift`; only entries between this edit and the previous one change groups. Returns None
    when the touched part holds a parse error, where only the whole-file index (with its
    ERROR recovery) is trustworthy.
    """
    touched = change.touched()
    low = min(start for start, _ in touched)
    high = max(end for _, end in touched)
    delta = change.new_end - change.old_end
    root = change.local_root if change.local_root is not None else doc.tree.root_node
    if root.has_error or doc.index_recovered:
        return None  # ERROR recovery looks at whole regions: only the full index is exact
    shift = doc.tail_shift
    if shift is None:
        shift = doc.tail_shift = Shift()
    # Entries still at their pre-edit offsets; the shared shift has not moved yet.
    # The index is sorted and its entries do not overlap: both ends are found by bisection.
    # Strictly apart from the change: text typed right at a function's edge may join it.
    # Nor sharing a line with it: a function starting on the line the change ends on has a
    # new column (its kept result would keep the old columns, in messages and related
    # locations), and what is published for a kept function is kept too, which counts on
    # the text of its lines being unchanged (see lsp.diagnostics).
    line_start = doc.text.rfind(b"\n", 0, change.start) + 1
    first_kept = bisect_left(previous, min(low, line_start), key=_end)
    line_end = doc.text.find(b"\n", change.new_end)
    line_end = (len(doc.text) if line_end < 0 else line_end) - delta
    last_kept = max(
        bisect_right(previous, max(change.old_end, high - delta, line_end), key=_start),
        first_kept,
    )
    before = previous[:first_kept]
    after = previous[last_kept:]
    first = before[-1].end_byte if before else 0
    last = after[0].start_byte + delta if after else len(doc.text)
    middle: list[FunctionInfo] = []
    for node in _top_level_between(root, first, last):
        if (
            node.is_error
            or node.type == "compound_statement"  # a body whose head went elsewhere
            or (node.has_error and node.type != "declaration")
            or (node.type == "function_definition" and _swallowed_neighbours(doc, node))
        ):
            return None  # the whole-file index recovers these regions
        if node.type == "function_definition" and _acceptable(node):
            info = _function_info(doc, node, recovered=False)
            if info is not None:
                middle.append(info)
    # The entries on the shared shift are a suffix of the list.
    on_shift = bisect_left(previous, True, key=lambda fn: fn.shift is shift)
    for fn in previous[on_shift:first_kept]:
        fn.rebase(None)  # now before the edit: they stay where they are
    for fn in previous[last_kept:on_shift]:
        fn.rebase(shift)  # now after the edit: they move with the others
    shift.bytes += delta
    shift.lines += change.line_delta
    return Reindexed([*before, *middle, *after], len(before), len(after))


def current_node(doc: SourceDocument, fn: FunctionInfo) -> FunctionInfo:
    """`fn` with its node taken from the document's current tree."""
    if doc.is_current(fn):
        return fn  # read from the current text's parse (a function's own one, or the file's)
    node = doc.tree.root_node.descendant_for_byte_range(fn.start_byte, fn.end_byte)
    while node is not None and not (
        node.type == "function_definition"
        and node.start_byte == fn.start_byte
        and node.end_byte == fn.end_byte
    ):
        node = node.parent
    if node is None:
        return fn
    fresh = _function_info(doc, node, fn.recovered)
    return fresh if fresh is not None else fn


def _start(fn: FunctionInfo) -> int:
    return fn.start_byte


def _end(fn: FunctionInfo) -> int:
    return fn.end_byte


def _top_level_between(root, first: int, last: int):
    """File-scope nodes (inside #if containers too) that start in [first, last)."""
    stack = [root]
    while stack:
        container = stack.pop()
        if first >= container.end_byte or last <= container.start_byte:
            continue
        # A plain walk of the children: Node.first_child_for_byte crashes the interpreter
        # (py-tree-sitter 0.26) for offsets past a node's end.
        for child in container.children:
            if child.start_byte >= last:
                break
            if child.end_byte <= first:
                continue
            if child.type in _CONTAINERS:
                stack.append(child)
            elif child.start_byte >= first:
                yield child
