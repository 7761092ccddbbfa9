"""Function pointers assigned in designated initialisers of ops structures and handler arrays."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from tree_sitter import Node, Query, QueryCursor

from kvmlock.syntax.document import c_language
from kvmlock.syntax.words import read_query

if TYPE_CHECKING:
    from kvmlock.syntax.document import SourceDocument


# Macros and enum constants by kernel convention, never functions.
_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True, slots=True)
class OpsAssignment:
    """`.field = function` inside `struct <struct_name> <variable> = { ... }`."""

    struct_name: str
    variable: str
    field: str
    function: str
    byte: int


@dataclass(frozen=True, slots=True)
class ArrayMember:
    """`[INDEX] = function` inside an array initialiser such as an exit-handler table."""

    array: str
    function: str
    byte: int


@lru_cache(maxsize=1)
def _query() -> Query:
    return Query(c_language(), read_query("initialisers.scm"))


@lru_cache(maxsize=1)
def _array_query() -> Query:
    return Query(c_language(), read_query("handler_arrays.scm"))


def ops_assignments(
    doc: SourceDocument, struct_names: Iterable[str] | None = None
) -> list[OpsAssignment]:
    """Every designated function assignment, restricted to struct_names when given."""
    every = doc.derived("ops_assignments", lambda: _all_assignments(doc))
    if struct_names is None:
        return list(every)
    wanted = set(struct_names)
    return [a for a in every if a.struct_name in wanted]


def _all_assignments(doc: SourceDocument) -> list[OpsAssignment]:
    result: list[OpsAssignment] = []
    for _pattern, caps in QueryCursor(_query()).matches(doc.tree.root_node):
        struct = _one(caps, "struct")
        if struct is None:
            continue
        struct_name = doc.original(struct)
        variable = _one(caps, "variable")
        field = _one(caps, "field")
        function = _one(caps, "function")
        if field is None or function is None:
            continue
        name = doc.original(function)
        if _CONSTANT.fullmatch(name):
            continue
        result.append(
            OpsAssignment(
                struct_name=struct_name,
                variable=_variable_name(doc, variable),
                field=doc.original(field),
                function=name,
                byte=function.start_byte,
            )
        )
    result.sort(key=lambda a: a.byte)
    return result


def ops_members(doc: SourceDocument, struct_names: Iterable[str]) -> dict[str, set[str]]:
    """Struct name -> names of the functions assigned to its designated fields."""
    members: dict[str, set[str]] = {name: set() for name in struct_names}
    for a in ops_assignments(doc, members):
        members[a.struct_name].add(a.function)
    return members


def array_members(doc: SourceDocument) -> list[ArrayMember]:
    """Every function named in an index-designated array initialiser."""
    result: list[ArrayMember] = []
    for _pattern, caps in QueryCursor(_array_query()).matches(doc.tree.root_node):
        declarator = _one(caps, "declarator")
        function = _one(caps, "function")
        if declarator is None or function is None:
            continue
        name = doc.original(function)
        array = _first_identifier(declarator)
        if array is None or _CONSTANT.fullmatch(name):
            continue
        result.append(ArrayMember(doc.original(array), name, function.start_byte))
    result.sort(key=lambda m: m.byte)
    return result


def _first_identifier(node: Node) -> Node | None:
    # `(*const handlers[])(args)`: the name sits under function, pointer and array wrappers,
    # and a parenthesised declarator gives its child no field name; parameters come later.
    while node.type != "identifier":
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in node.named_children if c.type != "type_qualifier"), None)
        if inner is None:
            return None
        node = inner
    return node


def _one(caps: dict[str, list[Node]], name: str) -> Node | None:
    nodes = caps.get(name)
    return nodes[0] if nodes else None


def _variable_name(doc: SourceDocument, node: Node | None) -> str:
    # `ops[]` or `*ops` declarators: the identifier inside is the variable.
    while node is not None and node.type != "identifier":
        inner = node.child_by_field_name("declarator")
        if inner is None:
            break
        node = inner
    return doc.original(node) if node is not None else ""
