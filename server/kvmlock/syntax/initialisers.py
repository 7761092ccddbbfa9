"""Function pointers assigned in designated initialisers of ops structures and handler arrays."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
    """`.field = function` inside `struct <struct_name> <variable> = { ... }`, or inside one
    element of an array of such structs (`<variable>[] = { { ... }, [i] = { ... } }`)."""

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
        variable = _one(caps, "variable")
        value = _one(caps, "value")
        if struct is None or variable is None or value is None:
            continue
        struct_name = doc.original(struct)
        variable_name = _variable_name(doc, variable)
        lists = _elements(value) if variable.type == "array_declarator" else [value]
        for fields in lists:
            for field, function in _designated_functions(fields):
                name = doc.original(function)
                if _CONSTANT.fullmatch(name):
                    continue
                result.append(
                    OpsAssignment(
                        struct_name=struct_name,
                        variable=variable_name,
                        field=doc.original(field),
                        function=name,
                        byte=function.start_byte,
                    )
                )
    result.sort(key=lambda a: a.byte)
    return result


def _elements(array: Node) -> list[Node]:
    """The struct initialisers of an array of structs: `{ ... }` or `[i] = { ... }`."""
    found = []
    for child in array.named_children:
        if child.type == "initializer_pair":
            designators = child.children_by_field_name("designator")
            if any(d.type == "field_designator" for d in designators):
                continue
            child = child.child_by_field_name("value")
        if child is not None and child.type == "initializer_list":
            found.append(child)
    return found


def _designated_functions(fields: Node) -> Iterator[tuple[Node, Node]]:
    """`.field = identifier` pairs of one struct's initialiser list. A nested designator
    (`.inner.f = g`) or initialiser (`.inner = { .f = g }`) sets a field of another struct,
    whose type is not known here: left out."""
    for pair in fields.named_children:
        if pair.type != "initializer_pair":
            continue
        designators = pair.children_by_field_name("designator")
        value = pair.child_by_field_name("value")
        if len(designators) != 1 or designators[0].type != "field_designator":
            continue
        if value is None or value.type != "identifier":
            continue
        field = designators[0].named_children[0] if designators[0].named_child_count else None
        if field is not None:
            yield field, value


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


_PREPROC_BLOCKS = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"}
)


def file_struct_variables(doc: SourceDocument) -> list[tuple[str, str]]:
    """(variable, struct name) of the file-scope variables declared with a struct type:
    `static struct S *cur;`, `extern const struct S s;`, `struct S tbl[] = {...};` (an
    array's elements, or what its pointers point to, are of the struct). Functions
    declared to return a struct pointer are left out."""
    return doc.derived("file_struct_variables", lambda: _file_struct_variables(doc))


def _file_struct_variables(doc: SourceDocument) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pending = list(reversed(doc.tree.root_node.named_children))
    while pending:
        node = pending.pop()
        if node.type in _PREPROC_BLOCKS:
            pending.extend(reversed(node.named_children))
            continue
        if node.type != "declaration":
            continue
        kind = node.child_by_field_name("type")
        if kind is None or kind.type not in ("struct_specifier", "union_specifier"):
            continue
        name = kind.child_by_field_name("name")
        if name is None:
            continue
        struct = doc.original(name)
        for declarator in node.children_by_field_name("declarator"):
            variable = _object_name(declarator)
            if variable is not None:
                found.append((doc.original(variable), struct))
    return found


def _object_name(declarator: Node) -> Node | None:
    """The identifier a declarator declares, None for a function declarator."""
    node: Node | None = declarator
    while node is not None and node.type != "identifier":
        if node.type in ("function_declarator", "abstract_function_declarator"):
            return None
        inner = node.child_by_field_name("declarator")
        if inner is None and node.type == "parenthesized_declarator":
            inner = next((c for c in node.named_children if c.type != "type_qualifier"), None)
        node = inner
    return node
