"""Index of the function definitions in a document, including those hidden by ERROR nodes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from tree_sitter import Node, Parser, Point, Query, QueryCursor, Range

from kvmlock.syntax.document import c_language, new_parser
from kvmlock.syntax.rewrite import Annotation
from kvmlock.syntax.words import read_query

if TYPE_CHECKING:
    from kvmlock.syntax.document import SourceDocument

# Kernel style puts a definition's braces at column 0; the closing line ends a chunk.
_CLOSE_AT_COL0 = re.compile(rb"^\}[^\n]*(?:\n|\Z)", re.M)
_OPEN_AT_COL0 = re.compile(rb"^\{", re.M)
# Nodes that may hold definitions at file scope.
_CONTAINERS = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
        "linkage_specification",
        "declaration_list",
    }
)


@dataclass(frozen=True, slots=True)
class Parameter:
    type_text: str
    name: str


class Shift:
    """How far the functions after the last edit moved since they were read.

    One object is shared by every function from the last edited one to the end of the file
    (see `syntax.incremental.reindex`): typing moves them all by changing two numbers here.
    """

    __slots__ = ("bytes", "lines")

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0


@dataclass(slots=True)
class FunctionInfo:
    name: str
    node: Node
    body: Node
    # Where the function was when read; start_byte/end_byte/start_line add `shift`.
    base_start: int
    base_end: int
    base_line: int  # 1-based
    parameters: list[Parameter] = field(default_factory=list)
    base_annotations: list[Annotation] = field(default_factory=list)
    is_static: bool = False
    # True when recovered by re-parsing a region the whole-file parse turned into ERROR.
    recovered: bool = False
    # Which parse of the document `node`/`body` come from: an entry kept over an edit that
    # did not touch it (its bytes are those it had) has nodes of an older tree.
    generation: int = 0
    shift: Shift | None = None
    _moved_annotations: tuple[int, list[Annotation]] | None = None

    @property
    def start_byte(self) -> int:
        shift = self.shift
        return self.base_start + shift.bytes if shift is not None else self.base_start

    @property
    def end_byte(self) -> int:
        shift = self.shift
        return self.base_end + shift.bytes if shift is not None else self.base_end

    @property
    def start_line(self) -> int:
        shift = self.shift
        return self.base_line + shift.lines if shift is not None else self.base_line

    @property
    def annotations(self) -> list[Annotation]:
        shift = self.shift
        if not self.base_annotations or shift is None or not shift.bytes:
            return self.base_annotations
        memo = self._moved_annotations
        if memo is None or memo[0] != shift.bytes:
            memo = (shift.bytes, _moved(self.base_annotations, shift.bytes))
            self._moved_annotations = memo
        return memo[1]

    def rebase(self, shift: Shift | None) -> None:
        """Keep the current position, measured from now on against `shift`."""
        old = self.shift
        delta_bytes = (old.bytes if old is not None else 0) - (
            shift.bytes if shift is not None else 0
        )
        delta_lines = (old.lines if old is not None else 0) - (
            shift.lines if shift is not None else 0
        )
        self.base_start += delta_bytes
        self.base_end += delta_bytes
        self.base_line += delta_lines
        if delta_bytes and self.base_annotations:
            self.base_annotations = _moved(self.base_annotations, delta_bytes)
        self.shift = shift
        self._moved_annotations = None


def _moved(annotations: list[Annotation], delta: int) -> list[Annotation]:
    return [
        replace(a, start_byte=a.start_byte + delta, end_byte=a.end_byte + delta)
        for a in annotations
    ]


@lru_cache(maxsize=1)
def _function_query() -> Query:
    return Query(c_language(), read_query("functions.scm"))


def index_functions(doc: SourceDocument) -> list[FunctionInfo]:
    found: dict[tuple[int, int], FunctionInfo] = {}
    for node in _definitions(doc.tree.root_node):
        if _acceptable(node):
            _add(found, doc, node, recovered=False)
    for start, end in _error_regions(doc):
        for node in _reparse_region(doc, start, end):
            _add(found, doc, node, recovered=True)
    return _without_overlaps(sorted(found.values(), key=lambda f: f.start_byte))


def _definitions(root: Node) -> list[Node]:
    """Definitions at file scope, inside #if branches and inside extern "C" blocks.

    A direct walk over those containers: running functions.scm over a whole 14k-line tree
    costs ~15 ms because the query visits every node of every body. The query is used for
    the small trees of re-parsed chunks instead.
    """
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            if child.type == "function_definition":
                found.append(child)
            elif child.type in _CONTAINERS:
                stack.append(child)
    return found


def _query_definitions(root: Node) -> list[Node]:
    return QueryCursor(_function_query()).captures(root).get("function", [])


def _acceptable(node: Node) -> bool:
    """Outermost definitions only, and none that the parser invented inside an ERROR."""
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition" or parent.is_error:
            return False
        parent = parent.parent
    body = node.child_by_field_name("body")
    return body is not None and _declarator_name(node) is not None


def _add(found: dict[tuple[int, int], FunctionInfo], doc: SourceDocument, node: Node,
         recovered: bool) -> None:
    key = (node.start_byte, node.end_byte)
    if key in found:
        return
    info = _function_info(doc, node, recovered)
    if info is not None:
        found[key] = info


def _without_overlaps(functions: list[FunctionInfo]) -> list[FunctionInfo]:
    """Drop a definition nested in or overlapping an earlier, larger one."""
    kept: list[FunctionInfo] = []
    for info in functions:
        if kept and info.start_byte < kept[-1].end_byte:
            prev = kept[-1]
            # Prefer the cleanly parsed one; otherwise the wider one.
            if prev.recovered and not info.recovered:
                kept[-1] = info
            continue
        kept.append(info)
    return kept


def _error_regions(doc: SourceDocument) -> list[tuple[int, int]]:
    """File-scope byte ranges the parse got wrong, each widened back to the last good item.

    Bad items: ERROR nodes, statements with errors (a head glued to a broken macro), and a
    bare `{...}` at file scope (a body whose head went into the previous bad item). Runs of
    consecutive bad items become one region so the lost head and its body stay together.
    """
    regions: list[tuple[int, int]] = []
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        run_start: int | None = None
        last_good_end = node.start_byte
        run_end = 0
        for child in node.children:
            if child.type in _CONTAINERS and not child.is_error:
                stack.append(child)
                bad = False
            elif child.type == "function_definition":
                bad = child.has_error and _swallowed_neighbours(doc, child)
            else:
                bad = child.is_error or child.type == "compound_statement" or (
                    child.has_error and child.type != "declaration"
                )
            if bad:
                if run_start is None:
                    run_start = last_good_end
                run_end = child.end_byte
            else:
                if run_start is not None:
                    regions.append((run_start, run_end))
                    run_start = None
                last_good_end = child.end_byte
        if run_start is not None:
            regions.append((run_start, run_end))
    return sorted(regions)


def _swallowed_neighbours(doc: SourceDocument, node: Node) -> bool:
    """A definition with errors whose body holds a column-0 `}`: it ate the next ones."""
    body = node.child_by_field_name("body")
    return body is not None and bool(
        _CLOSE_AT_COL0.search(doc.text, body.start_byte, body.end_byte - 1)
    )


def _reparse_region(doc: SourceDocument, start: int, end: int) -> list[Node]:
    """Parse the region one kernel-style definition at a time, keeping absolute positions."""
    text = doc.text
    parser = new_parser()
    nodes: list[Node] = []
    chunk_start = start
    for m in _CLOSE_AT_COL0.finditer(text, start, end):
        chunk_end = m.end()
        if not _OPEN_AT_COL0.search(text, chunk_start, m.start()):
            continue
        nodes.extend(_parse_chunk(doc, parser, chunk_start, chunk_end))
        chunk_start = chunk_end
    return nodes


def _parse_chunk(doc: SourceDocument, parser: Parser, start: int, end: int) -> list[Node]:
    # Whatever precedes the definition in the chunk (a broken declaration, stray tokens)
    # can take the head with it; retry from the line after the last `;`, `}` or blank line.
    attempts = [start]
    head = _head_start(doc.text, start, end)
    if head > start:
        attempts.append(head)
    fallback: list[Node] = []
    for attempt in attempts:
        parser.included_ranges = [_range(doc, attempt, end)]
        tree = parser.parse(doc.text)
        nodes = [n for n in _query_definitions(tree.root_node) if _acceptable(n)]
        if nodes and not any(n.has_error for n in nodes):
            return nodes
        fallback = fallback or nodes
    # A definition with an error inside its body still has the right name and extent.
    return fallback


def _head_start(text: bytes, start: int, end: int) -> int:
    brace = _OPEN_AT_COL0.search(text, start, end)
    if brace is None:
        return start
    pos = brace.start()
    # Walk back over the head's lines until a line that ends a previous item.
    line_end = text.rfind(b"\n", start, pos)
    while line_end > start:
        line_begin = text.rfind(b"\n", start, line_end) + 1
        line = text[max(line_begin, start) : line_end].rstrip()
        if not line or line.endswith((b";", b"}", b"*/")) or line.lstrip().startswith(b"#"):
            return line_end + 1
        line_end = line_begin - 1
    return start


def _range(doc: SourceDocument, start: int, end: int) -> Range:
    sl, sc = doc.line_col(start)
    el, ec = doc.line_col(end)
    return Range(Point(sl - 1, sc - 1), Point(el - 1, ec - 1), start, end)


def _function_info(doc: SourceDocument, node: Node, recovered: bool) -> FunctionInfo | None:
    body = node.child_by_field_name("body")
    declarator = _function_declarator(node)
    name_node = _declarator_name(node)
    if body is None or declarator is None or name_node is None:
        return None
    head_end = body.start_byte
    annotations = [
        a for a in doc.annotations if node.start_byte <= a.start_byte < head_end
    ]
    is_static = any(
        c.type == "storage_class_specifier" and doc.text[c.start_byte : c.end_byte] == b"static"
        for c in node.children
    )
    return FunctionInfo(
        name=doc.original(name_node),
        node=node,
        body=body,
        base_start=node.start_byte,
        base_end=node.end_byte,
        base_line=doc.line_col(node.start_byte)[0],
        parameters=_parameters(doc, declarator),
        base_annotations=annotations,
        is_static=is_static,
        recovered=recovered,
        generation=doc.generation,
    )


def _function_declarator(node: Node) -> Node | None:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in decl.named_children if c.type.endswith("declarator")), None)
        decl = inner
    return decl


def _declarator_name(node: Node) -> Node | None:
    decl = _function_declarator(node)
    if decl is None:
        return None
    inner = decl.child_by_field_name("declarator")
    while inner is not None and inner.type not in ("identifier", "field_identifier"):
        nxt = inner.child_by_field_name("declarator")
        if nxt is None:
            nxt = next((c for c in inner.named_children if c.type == "identifier"), None)
        inner = nxt
    return inner


def _parameters(doc: SourceDocument, declarator: Node) -> list[Parameter]:
    params = declarator.child_by_field_name("parameters")
    if params is None:
        return []
    result: list[Parameter] = []
    for p in params.named_children:
        if p.type == "variadic_parameter":
            result.append(Parameter("...", ""))
            continue
        if p.type != "parameter_declaration":
            continue
        name_node = _parameter_name(p)
        text = doc.text
        if name_node is None:
            type_text = text[p.start_byte : p.end_byte]
            name = ""
        else:
            type_text = text[p.start_byte : name_node.start_byte] + text[
                name_node.end_byte : p.end_byte
            ]
            name = doc.original(name_node)
        type_str = " ".join(type_text.decode("utf-8", "replace").split())
        if type_str == "void" and not name:
            continue
        result.append(Parameter(type_str, name))
    return result


def _parameter_name(param: Node) -> Node | None:
    decl = param.child_by_field_name("declarator")
    while decl is not None and decl.type != "identifier":
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in decl.named_children if c.type == "identifier"), None)
        decl = inner
    return decl


def annotations_by_function(doc: SourceDocument) -> dict[str, list[Annotation]]:
    """Lock annotations per function name, from definitions and from prototypes."""
    result: dict[str, list[Annotation]] = {}
    claimed: set[Annotation] = set()
    for info in doc.functions:
        if info.annotations:
            result.setdefault(info.name, []).extend(info.annotations)
            claimed.update(info.annotations)
    for ann in doc.annotations:
        if ann in claimed:
            continue
        name = _prototype_name(doc, ann)
        if name is not None:
            result.setdefault(name, []).append(ann)
    return result


def _prototype_name(doc: SourceDocument, ann: Annotation) -> str | None:
    node = doc.tree.root_node.descendant_for_byte_range(ann.start_byte, ann.end_byte)
    while node is not None and node.type not in ("declaration", "field_declaration"):
        node = node.parent
    if node is None:
        return None
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    if decl is None:
        return None
    inner = decl.child_by_field_name("declarator")
    while inner is not None and inner.type not in ("identifier", "field_identifier"):
        inner = inner.child_by_field_name("declarator")
    return doc.original(inner) if inner is not None else None
