"""A parsed C file: original bytes, rewritten bytes, tree and position helpers."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Tree

from kvmlock.syntax import rewrite as _rewrite
from kvmlock.syntax.rewrite import Annotation

if TYPE_CHECKING:
    from kvmlock.syntax.functions import FunctionInfo


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


@dataclass(eq=False)
class SourceDocument:
    """Mutable on purpose: incremental editing will replace source/text/tree in place."""

    path: str
    source: bytes
    text: bytes
    tree: Tree
    annotations: list[Annotation]
    _line_starts: list[int] = field(default_factory=list, repr=False)
    _functions: list[FunctionInfo] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self._line_starts:
            self._line_starts = line_starts(self.source)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def functions(self) -> list[FunctionInfo]:
        if self._functions is None:
            from kvmlock.syntax.functions import index_functions

            self._functions = index_functions(self)
        return self._functions

    def line_col(self, byte: int) -> tuple[int, int]:
        """1-based line and 1-based byte column of a byte offset."""
        line = bisect_right(self._line_starts, byte) - 1
        return line + 1, byte - self._line_starts[line] + 1

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
        self.tree = (
            parser.parse(rewritten.text) if tree is None else parser.parse(rewritten.text, tree)
        )
        self._line_starts = line_starts(source)
        self._functions = None


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
