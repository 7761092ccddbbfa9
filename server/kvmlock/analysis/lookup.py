"""Questions about one place in a document, for editor features: which lock does the
expression under the cursor designate, which function name is under it."""

from __future__ import annotations

from tree_sitter import Node

from kvmlock.analysis.lockexpr import LockRef, Scope
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.functions import FunctionInfo

_LOCKISH = ("field_expression", "pointer_expression", "identifier", "subscript_expression")


def node_at(doc: SourceDocument, byte: int) -> Node | None:
    return doc.tree.root_node.named_descendant_for_byte_range(byte, byte)


def lock_at(doc: SourceDocument, fn: FunctionInfo, byte: int) -> LockRef | None:
    """The lock class of the lock expression under `byte` (`&kvm->lock`, `vcpu->mutex`)."""
    node = node_at(doc, byte)
    # Climb to the whole expression: from `lock` in `&kvm->lock` up to the `&` expression.
    while node is not None and node.parent is not None and node.parent.type in _LOCKISH:
        node = node.parent
    if node is None or node.type not in _LOCKISH:
        return None
    scope = Scope(doc.text)
    for declaration in _declarations(fn.node):
        scope.declare(declaration)
    return scope.resolve(node)


def name_at(doc: SourceDocument, byte: int) -> str | None:
    """A function name under `byte`: a definition's declarator or a call's callee."""
    node = node_at(doc, byte)
    if node is None or node.type != "identifier" or node.parent is None:
        return None
    parent = node.parent
    if parent.type == "function_declarator" or (
        parent.type == "call_expression" and parent.child_by_field_name("function") == node
    ):
        return _text(doc, node)
    return None


def _declarations(function: Node) -> list[Node]:
    found = []
    stack = [function]
    while stack:
        node = stack.pop()
        if node.type in ("declaration", "parameter_declaration"):
            found.append(node)
        stack.extend(node.named_children)
    return found


def _text(doc: SourceDocument, node: Node) -> str:
    return doc.text[node.start_byte : node.end_byte].decode("utf-8", "replace")
