"""From a lock expression in C to its lock class and instance.

`&vcpu->kvm->lock`, `&k->lock` (with `struct kvm *k = vcpu->kvm;`) and `&kvm->lock` are all the
class `kvm->lock`, as lockdep sees them. The instance is the expression itself (whitespace
stripped), which tells two vCPUs' `vcpu->mutex` apart when the code names them differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from kvmlock.rules.classes import canonical, join_field, struct_root, tables

_TO_STRUCT = re.compile(r"^to_(\w+)$")
_PER_CPU = {"per_cpu", "per_cpu_ptr", "this_cpu_ptr", "raw_cpu_ptr", "this_cpu_read"}
# `(pointer, type, member)` macros that return a pointer to the type.
_CONTAINER_OF = frozenset(
    {
        "container_of",
        "container_of_const",
        "list_entry",
        "list_entry_rcu",
        "list_first_entry",
        "list_first_entry_or_null",
        "list_last_entry",
        "hlist_entry",
        "hlist_entry_safe",
    }
)
# What rb"\s" matches, deleted with bytes.translate (a third of the time of a regex sub).
_WHITESPACE_BYTES = b" \t\n\r\x0b\x0c"


@dataclass(frozen=True)
class LockRef:
    cls: str
    instance: str


@dataclass
class Scope:
    """What a function knows about its variables: struct types and lock aliases."""

    text: bytes
    types: dict[str, str] = field(default_factory=dict)  # variable → struct name
    inits: dict[str, Node] = field(default_factory=dict)  # variable → initialiser / assignment
    # Parameters and locals declared so far, and those whose address was taken (`&x`): what
    # is known about a local's value (walker facts) holds only while nothing else can write it.
    names: set[str] = field(default_factory=set)
    escaped: set[str] = field(default_factory=set)

    def node_text(self, node: Node) -> str:
        """The node's text without whitespace."""
        raw = self.text[node.start_byte : node.end_byte]
        return raw.translate(None, _WHITESPACE_BYTES).decode("utf-8", "replace")

    # --- building -----------------------------------------------------------------------

    def declare(self, declaration: Node) -> list[str]:
        """Record `struct T *a = init, b;` (a declaration or parameter_declaration node);
        the names declared."""
        struct = _struct_name(declaration.child_by_field_name("type"), self.text)
        names: list[str] = []
        for declarator in declaration.children_by_field_name("declarator"):
            init = None
            if declarator.type == "init_declarator":
                init = declarator.child_by_field_name("value")
                declarator = declarator.child_by_field_name("declarator") or declarator
            name = _declared_name(declarator)
            if not name:
                continue
            names.append(name)
            self.names.add(name)
            if struct:
                self.types[name] = struct
            if init is not None:
                self.inits[name] = init
                if not struct:
                    inferred = self.struct_of(init)
                    if inferred:
                        self.types[name] = inferred
        return names

    def tracked(self, name: str) -> bool:
        """A parameter or local only this function's own assignments can change."""
        return name in self.names and name not in self.escaped

    # --- queries ------------------------------------------------------------------------

    def struct_of(self, expr: Node | None, depth: int = 0) -> str | None:
        """The struct type an expression points to, when it can be told."""
        expr = strip(expr)
        if expr is None or depth > 8:
            return None
        if expr.type == "identifier":
            name = self.node_text(expr)
            if name in self.types:
                return self.types[name]
            return tables().conventional_variables.get(name)
        if expr.type == "field_expression":
            base = self.struct_of(expr.child_by_field_name("argument"), depth + 1)
            fld = expr.child_by_field_name("field")
            if base and fld is not None:
                return tables().pointer_fields.get(f"{base}.{self.node_text(fld)}")
            return None
        if expr.type == "call_expression":
            fn = expr.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                match = _TO_STRUCT.match(self.node_text(fn))
                if match:
                    name = match[1]
                    if name in tables().struct_roots:
                        return name
                    return tables().conventional_variables.get(name)
        return None

    def base_struct(self, expr: Node | None, depth: int = 0) -> str | None:
        """The struct type of the base of a call through a function-pointer field: what
        `struct_of` tells, and also a cast (`((struct S *)p)->f()`), a container_of-style
        macro (`container_of(x, struct S, member)->f()`) and an element of an array
        (`tbl[i].f()`, `exts[i]->f()`). Only for binding calls: lock classes keep reading
        through casts (`struct_of`)."""
        while expr is not None and depth <= 8:
            if expr.type == "parenthesized_expression":
                expr = expr.named_children[0] if expr.named_child_count else None
            elif expr.type == "cast_expression":
                described = expr.child_by_field_name("type")
                struct = _struct_name(
                    described.child_by_field_name("type") if described is not None else None,
                    self.text,
                )
                if struct:
                    return struct
                expr = expr.child_by_field_name("value")  # `(void *)p`: p's own type
            elif expr.type == "subscript_expression" or (
                expr.type == "pointer_expression" and self._operator(expr) == "*"
            ):
                expr = expr.child_by_field_name("argument")
            elif expr.type == "call_expression":
                return self._container_type(expr) or self.struct_of(expr)
            else:
                return self.struct_of(expr)
            depth += 1
        return None

    def _operator(self, expr: Node) -> str:
        op = expr.child_by_field_name("operator")
        return op.type if op is not None else ""

    def _container_type(self, call: Node) -> str | None:
        """`container_of(x, struct S, member)` and the list helpers of the same shape: the
        rewrite left the type as one identifier (`S`)."""
        fn = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        if fn is None or args is None or self.node_text(fn) not in _CONTAINER_OF:
            return None
        named = [c for c in args.named_children if c.type != "comment"]
        if len(named) != 3 or named[1].type != "identifier":
            return None
        return self.node_text(named[1])

    def resolve(self, expr: Node | None, depth: int = 0) -> LockRef | None:
        """The lock an expression such as `&kvm->lock` designates."""
        expr = strip(expr)
        if expr is None or depth > 8:
            return None
        if expr.type == "call_expression":
            fn = expr.child_by_field_name("function")
            args = expr.child_by_field_name("arguments")
            if fn is not None and args is not None and self.node_text(fn) in _PER_CPU:
                named = [c for c in args.named_children if c.type != "comment"]
                return self.resolve(named[0], depth + 1) if named else None
            return None
        if expr.type == "identifier":
            name = self.node_text(expr)
            init = self.inits.get(name)
            if init is not None and strip_parens(init).type == "pointer_expression":
                aliased = self.resolve(init, depth + 1)
                if aliased is not None:
                    return aliased
            return LockRef(canonical(name), name)
        if expr.type in ("field_expression", "subscript_expression"):
            path = self._class_path(expr, depth)
            if path is None:
                return None
            return LockRef(canonical(path), self.node_text(expr))
        return None

    def _class_path(self, expr: Node, depth: int) -> str | None:
        if expr.type == "subscript_expression":
            inner = expr.child_by_field_name("argument")
            return self._class_path(strip(inner), depth + 1) if inner is not None else None
        if expr.type != "field_expression":
            return None
        base = strip(expr.child_by_field_name("argument"))
        fld = expr.child_by_field_name("field")
        if base is None or fld is None:
            return None
        field_name = self.node_text(fld)
        owner = self.struct_of(base, depth + 1)
        if owner:
            return join_field(struct_root(owner), field_name)
        if base.type == "identifier":
            return join_field(self.node_text(base), field_name)
        inner = self._class_path(base, depth + 1)
        if inner is None:
            return None
        return join_field(inner, field_name)


def strip_parens(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_child_count:
        node = node.named_children[0]
    return node


def strip(node: Node | None) -> Node | None:
    """Remove `&`, `*`, parentheses and casts around a lock expression."""
    while node is not None:
        if node.type == "parenthesized_expression":
            node = node.named_children[0] if node.named_child_count else None
        elif node.type == "pointer_expression":
            node = node.child_by_field_name("argument")
        elif node.type == "cast_expression":
            node = node.child_by_field_name("value")
        else:
            return node
    return None


def _struct_name(type_node: Node | None, text: bytes) -> str | None:
    if type_node is None:
        return None
    if type_node.type in ("struct_specifier", "union_specifier"):
        name = type_node.child_by_field_name("name")
        if name is not None:
            return text[name.start_byte : name.end_byte].decode("utf-8", "replace")
    return None


def _declared_name(declarator: Node | None) -> str | None:
    while declarator is not None:
        if declarator.type == "identifier":
            return declarator.text.decode("utf-8", "replace") if declarator.text else None
        inner = declarator.child_by_field_name("declarator")
        if inner is None:
            return None
        declarator = inner
    return None
