"""A parsed C file: original bytes, rewritten bytes, tree and position helpers."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Tree

from kvmlock.syntax import rewrite as _rewrite
from kvmlock.syntax.rewrite import Annotation

T = TypeVar("T")

if TYPE_CHECKING:
    from kvmlock.syntax.functions import FunctionInfo, Shift


@lru_cache(maxsize=1)
def c_language() -> Language:
    return Language(tree_sitter_c.language())


@lru_cache(maxsize=1)
def _shared_parser() -> Parser:
    return Parser(c_language())


def new_parser() -> Parser:
    """A parser of one's own, for callers that set included_ranges or parse concurrently."""
    return Parser(c_language())


def line_starts(data: bytes) -> list[int]:
    starts = [0]
    find = data.find
    pos = find(b"\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = find(b"\n", pos + 1)
    return starts


class LineStarts:
    """Where each line starts (byte offsets), kept up to date edit by edit.

    The starts after the last edit's line are stored as they were, with one pending delta:
    typing on a line moves every later line, and adding one number here instead of rewriting
    ~14k entries (x86.c) per keystroke keeps the cost independent of the file's length. An
    edit elsewhere settles only the entries between the two edits.
    """

    __slots__ = ("_delta", "_from", "_starts")

    def __init__(self, starts: list[int]) -> None:
        self._starts = starts
        self._from = len(starts)  # entries from here on are stored without `_delta`
        self._delta = 0

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, index: int) -> int:
        if index < 0:
            index += len(self._starts)
        value = self._starts[index]
        return value + self._delta if index >= self._from else value

    def row(self, byte: int) -> int:
        """0-based index of the line holding `byte` (the last start <= byte)."""
        starts, first = self._starts, self._from
        if first < len(starts) and byte >= starts[first] + self._delta:
            return bisect_right(starts, byte - self._delta, first) - 1
        return bisect_right(starts, byte, 0, first) - 1

    def edit(self, text: bytes, start: int, old_end: int, new_end: int) -> None:
        """[start, old_end) was replaced by text[start:new_end] (`text` is the new text)."""
        keep = self.row(start) + 1
        tail = self.row(old_end) + 1
        starts, delta = self._starts, self._delta
        if delta and self._from < keep:
            low, high = self._from, keep
            starts[low:high] = [value + delta for value in starts[low:high]]
        elif delta and self._from > keep:
            low, high = keep, min(self._from, len(starts))
            starts[low:high] = [value - delta for value in starts[low:high]]
        self._from = keep
        delta += new_end - old_end
        inserted = []
        pos = text.find(b"\n", start, new_end)
        while pos >= 0:
            inserted.append(pos + 1 - delta)
            pos = text.find(b"\n", pos + 1, new_end)
        starts[keep:tail] = inserted
        self._delta = delta


class SourceDocument:
    """Mutable on purpose: incremental editing replaces source/text/tree in place.

    The whole-file tree may lag behind the text: a keystroke inside one function is parsed
    in that function's range alone (see `syntax.incremental`), and the edits pile up on the
    old tree until something asks for `tree`, which then reparses the file once, reusing
    everything outside the edited function.
    """

    def __init__(
        self,
        path: str,
        source: bytes,
        text: bytes,
        tree: Tree,
        annotations: list[Annotation],
        _line_starts: LineStarts | None = None,
        _functions: list[FunctionInfo] | None = None,
    ) -> None:
        self.path = path
        self.source = source
        self.text = text
        self.annotations = annotations
        self._line_starts = _line_starts or LineStarts(line_starts(source))
        self._functions = _functions
        self._tree = tree
        self._tree_lags = False  # `_tree` has been edited but not reparsed
        self.clean = not tree.root_node.has_error  # no parse error in the file's tree
        self.generation = 0  # counts parses; index entries remember theirs
        self.index_recovered = False  # the function index holds ERROR-recovered entries
        self.tail_shift: Shift | None = None  # see syntax.incremental.reindex
        # The function range the last edit was rewritten and parsed in alone, if it was, and
        # that parse's tree: the next edit in the same function reparses from it.
        self.last_window: tuple[int, int] | None = None
        self.window_tree: Tree | None = None
        self._derived: dict[str, tuple[int, object]] = {}

    def __repr__(self) -> str:
        return f"SourceDocument(path={self.path!r}, {len(self.source)} bytes)"

    @property
    def tree(self) -> Tree:
        if self._tree_lags:
            self.set_tree(parse_again(self.text, self._tree))
        return self._tree

    @tree.setter
    def tree(self, tree: Tree) -> None:
        self.set_tree(tree)

    def set_tree(self, tree: Tree) -> None:
        self._tree = tree
        self._tree_lags = False
        self.clean = not tree.root_node.has_error

    def defer_tree(self, edited: Tree) -> None:
        """`edited` (the old tree after `Tree.edit`) stands for the tree until it is asked
        for; the caller parsed the edited part on its own and found no error there."""
        self._tree = edited
        self._tree_lags = True

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def functions(self) -> list[FunctionInfo]:
        if self._functions is None:
            from kvmlock.syntax.functions import index_functions

            self.set_functions(index_functions(self))
        return self._functions

    def set_functions(self, functions: list[FunctionInfo], recovered: bool | None = None) -> None:
        """`recovered`: whether any entry is ERROR-recovered, when the caller knows."""
        self._functions = functions
        self.index_recovered = (
            any(f.recovered for f in functions) if recovered is None else recovered
        )

    def derived(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()` once per text: whole-tree queries asked for by several stages."""
        found = self._derived.get(name)
        if found is None or found[0] != self.generation:
            found = self._derived[name] = (self.generation, compute())
        return found[1]  # type: ignore[return-value]

    def is_current(self, fn: FunctionInfo) -> bool:
        """Whether `fn` was read from the current text's parse (else its nodes are older)."""
        return fn.generation == self.generation

    def line_col(self, byte: int) -> tuple[int, int]:
        """1-based line and 1-based byte column of a byte offset."""
        starts = self._line_starts
        line = starts.row(byte)
        return line + 1, byte - starts[line] + 1

    def byte_at(self, line: int, col: int) -> int:
        """Inverse of line_col (1-based line and column)."""
        return self._line_starts[line - 1] + col - 1

    def original(self, node: Node) -> str:
        """The node's range in the original text (before the rewrite)."""
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def macro_name_at(self, byte: int) -> str | None:
        """The identifier at `byte` in the original, e.g. which macro a `while` came from."""
        return _rewrite.macro_name_at(self.source, byte)

    def was_rewritten(self, node: Node) -> bool:
        return self.source[node.start_byte : node.end_byte] != self.text[
            node.start_byte : node.end_byte
        ]

    def replace(self, source: bytes, tree: Tree | None = None) -> None:
        """Reset to new contents; an incremental reparse passes the edited old tree."""
        rewritten = _rewrite.rewrite(source)
        self.source = source
        self.text = rewritten.text
        self.annotations = rewritten.annotations
        parser = _shared_parser()
        self.set_tree(
            parser.parse(rewritten.text) if tree is None else parser.parse(rewritten.text, tree)
        )
        self._line_starts = LineStarts(line_starts(source))
        self._functions = None
        self.generation += 1
        self.last_window = None
        self.window_tree = None


def parse_again(text: bytes, old_tree: Tree) -> Tree:
    """Reparse from an edited tree. Error recovery may settle differently when parsing from
    an old tree (the edit property test finds such texts); a fresh parse then keeps the
    result identical to opening the file anew. The rewrite leaves real KVM files free of
    errors, so this costs only while the code being typed does not parse."""
    tree = _shared_parser().parse(text, old_tree)
    if tree.root_node.has_error:
        tree = _shared_parser().parse(text)
    return tree


def parse_document(path: str, source: bytes) -> SourceDocument:
    rewritten = _rewrite.rewrite(source)
    tree = _shared_parser().parse(rewritten.text)
    return SourceDocument(
        path=path,
        source=source,
        text=rewritten.text,
        tree=tree,
        annotations=rewritten.annotations,
    )


def parse_file(path: str) -> SourceDocument:
    with open(path, "rb") as fh:
        return parse_document(path, fh.read())
