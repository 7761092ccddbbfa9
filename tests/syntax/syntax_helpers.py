"""Shared helpers for the syntax tests (a plain module: conftest imports are ambiguous)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tree_sitter import Node

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "c" / "syntax"


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def problems(node: Node) -> list[Node]:
    return [n for n in walk(node) if n.is_error or n.is_missing]
