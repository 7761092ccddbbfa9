"""Same-length rewrite of kernel C so that tree-sitter-c can parse it.

Every edit replaces bytes with the same number of bytes and never touches a newline, so
byte offsets, lines and columns of the rewritten tree are those of the original text. The
original bytes stay the source of truth: the analysis reads them back (for example the macro
name at the start of a `while` that used to be `kvm_for_each_vcpu`).

All matching is done on a *masked* copy in which comments, string/char literal contents and
preprocessor lines are spaces, so `scoped_guard(` inside a comment is never rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kvmlock.syntax.words import KernelWords, load_words

# Every byte except CR and LF becomes a space.
_BLANK = bytes(b if b in (0x0A, 0x0D) else 0x20 for b in range(256))

_LEX = re.compile(
    rb"""
    (?P<bc>/\*.*?(?:\*/|\Z))
  | (?P<lc>//[^\n]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*"?)
  | (?P<chr>'(?:[^'\\\n]|\\.)*'?)
  | (?P<pp>^[ \t]*\#(?:[^\n\\/]|\\.|/\*.*?\*/|/)*)
    """,
    re.S | re.M | re.X,
)
_COND = re.compile(rb"[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b")
_BRACKETS = re.compile(rb"[(){};]")
_BRACES = re.compile(rb"[{}]")
_OPERATOR = frozenset(b"=|&+-*/<>?!~^%")
_NESTING = re.compile(rb"[(){}]")
_NAME_BEFORE = re.compile(rb"([A-Za-z_]\w*)\s*\Z")
_WORD_AT = re.compile(rb"[A-Za-z_]\w*")
_SPACE = b" \t\r\n\f\v"
# A whole macro argument that is a type, not an expression.
_TYPE_ARG = re.compile(
    rb"""(?<=[(,])\s*
    (?P<type>
        (?:const\s+)?(?:struct|union|enum)\s+[A-Za-z_]\w*(?:\s*\*)*
      | (?:const\s+)?(?:unsigned|signed|long|short)(?:\s+(?:unsigned|signed|long|short|int|char))+
        (?:\s*\*)*
      | (?:const\s+)?[A-Za-z_]\w*(?:\s*\*)+
    )\s*(?=[,)])""",
    re.X,
)
_TYPE_KEYWORD = re.compile(rb"\b(?:const|struct|union|enum)\b|\*")
_CASE_RANGE = re.compile(rb"\.\.\.")
_LINE_CALL = re.compile(rb"^([A-Za-z_]\w*)[ \t]*\(", re.M)
_STATIC_MACRO = re.compile(rb"\bstatic\s+(?:const\s+)?([A-Z][A-Z0-9_]*)\s*\(")
_ALL_CAPS = re.compile(rb"[A-Z][A-Z0-9_]*")
# Previous significant byte that puts a macro in statement position.
_STATEMENT_BEFORE = frozenset(b";{}):")
# First byte of an unbraced loop/guard body.
_BODY_START = frozenset(b"{(*+-_" + bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)))


@dataclass(frozen=True, slots=True)
class Annotation:
    """A lock annotation such as `__must_hold(&kvm->lock)`, as written in the original."""

    kind: str
    argument: str
    start_byte: int
    end_byte: int


@dataclass(slots=True)
class Rewritten:
    text: bytes
    annotations: list[Annotation] = field(default_factory=list)


class _Buffers:
    """The output text and the masked copy, edited in lock step."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.out = bytearray(source)
        self.masked = bytearray(source)

    def blank(self, start: int, end: int) -> None:
        self.out[start:end] = self.out[start:end].translate(_BLANK)
        self.masked[start:end] = self.masked[start:end].translate(_BLANK)

    def replace(self, start: int, new: bytes) -> None:
        end = start + len(new)
        self.out[start:end] = new
        self.masked[start:end] = new


def rewrite(source: bytes, words: KernelWords | None = None) -> Rewritten:
    kw = words or load_words()
    buf = _Buffers(source)
    directives = _mask_lexical(buf)
    _flatten_awkward_conditionals(buf, directives)
    annotations = _strip_attributes(buf, kw)
    _declarator_macros(buf, kw)
    _block_macros(buf, kw)
    _type_arguments(buf, kw)
    _unterminated_top_level_calls(buf)
    _case_ranges(buf)
    text = bytes(buf.out)
    assert len(text) == len(source)
    return Rewritten(text=text, annotations=annotations)


def macro_name_at(source: bytes, byte: int) -> str | None:
    """The identifier starting at `byte` of the original text, e.g. `kvm_for_each_vcpu`."""
    m = _WORD_AT.match(source, byte)
    return m.group().decode("ascii", "replace") if m else None


def _mask_lexical(buf: _Buffers) -> list[tuple[int, int]]:
    """Blank comments, literal contents and directives in the masked copy only."""
    masked = buf.masked
    directives: list[tuple[int, int]] = []
    for m in _LEX.finditer(buf.source):
        kind = m.lastgroup
        start, end = m.span()
        if kind in ("str", "chr"):
            # Keep the quotes so an argument list still has something in that slot.
            start, end = start + 1, max(start + 1, end - 1)
        elif kind == "pp":
            directives.append((start, end))
        masked[start:end] = masked[start:end].translate(_BLANK)
    return directives


def _flatten_awkward_conditionals(buf: _Buffers, directives: list[tuple[int, int]]) -> None:
    """Keep only the first branch of #if groups the grammar cannot hold.

    tree-sitter-c accepts #if only where a statement, declaration or field could stand, and
    only if each branch is complete on its own. An #if inside a parenthesised expression
    once turned the rest of x86.c into one ERROR node; initialiser lists, branches that
    begin or end with a dangling `else`, and `} else {` inside a branch fail the same way.
    """
    groups = _conditional_groups(buf.source, directives)
    if not groups:
        return
    masked = buf.masked
    awkward_at = _awkward_positions(masked, directives)
    # Inner groups come first (they close first), so outer groups see them flattened.
    for group in groups:
        if group[0][0] not in awkward_at and all(
            _branch_ok(masked, group[i][1], group[i + 1][0]) for i in range(len(group) - 1)
        ):
            continue
        for start, end in group:
            buf.blank(start, end)
        if len(group) > 2:
            buf.blank(group[1][0], group[-1][0])


def _conditional_groups(
    source: bytes, directives: list[tuple[int, int]]
) -> list[list[tuple[int, int]]]:
    """#if/#elif/#else/#endif directive spans grouped, innermost groups first."""
    groups: list[list[tuple[int, int]]] = []
    stack: list[list[tuple[int, int]]] = []
    for start, end in directives:
        m = _COND.match(source, start)
        if not m:
            continue
        word = m.group(1)
        if word.startswith(b"if"):
            stack.append([(start, end)])
        elif stack:
            stack[-1].append((start, end))
            if word == b"endif":
                groups.append(stack.pop())
    return groups


def _awkward_positions(masked: bytearray, directives: list[tuple[int, int]]) -> set[int]:
    """Directive starts that sit inside parentheses or inside an initialiser's braces."""
    awkward: set[int] = set()
    # One left-to-right sweep over braces, interleaved with the directive positions.
    braces = [m.start() for m in _BRACES.finditer(masked)]
    initialiser_stack: list[bool] = []
    bi = 0
    paren = 0
    prev = 0
    for start, _ in directives:
        paren += masked.count(b"(", prev, start) - masked.count(b")", prev, start)
        prev = start
        while bi < len(braces) and braces[bi] < start:
            pos = braces[bi]
            bi += 1
            if masked[pos] == 0x7B:
                before = _prev_significant(masked, pos)
                initialiser_stack.append(before >= 0 and masked[before] in b"=,{")
            elif initialiser_stack:
                initialiser_stack.pop()
        if paren > 0 or (initialiser_stack and initialiser_stack[-1]):
            awkward.add(start)
        elif (before := _prev_significant(masked, start)) >= 0 and masked[before] in _OPERATOR:
            awkward.add(start)  # `x &=` then #ifdef: the group is inside an expression
        elif initialiser_stack and _expects_statement(masked, start):
            awkward.add(start)
    return awkward


def _expects_statement(masked: bytearray, pos: int) -> bool:
    """After `if (x)`, `else` or a label the grammar wants one statement, not an #if."""
    before = _prev_significant(masked, pos)
    if before < 0:
        return False
    if masked[before] in b"):":
        return True
    word = _NAME_BEFORE.search(masked, max(0, before - 8), before + 1)
    return bool(word) and word.group(1) in (b"else", b"do")


def _branch_ok(masked: bytearray, start: int, end: int) -> bool:
    """A branch the grammar can hold: brackets nest within it and no `else` dangles."""
    region = bytes(masked[start:end]).strip()
    if not region:
        return True
    if region.startswith(b"else") and region[4:5] in (b"", b" ", b"\t", b"\n", b"{", b"\r"):
        return False
    if region.endswith(b"else") and not region[-5:-4].isalnum() and region[-5:-4] != b"_":
        return False
    paren = brace = 0
    for m in _NESTING.finditer(region):
        c = m.group()
        if c == b"(":
            paren += 1
        elif c == b")":
            paren -= 1
        elif c == b"{":
            brace += 1
        else:
            brace -= 1
        if paren < 0 or brace < 0:
            return False
    return paren == 0 and brace == 0


def _close_paren(masked: bytearray, open_pos: int) -> int | None:
    """Index of the `)` matching the `(` at open_pos; None if a statement boundary comes first."""
    depth = 0
    for m in _BRACKETS.finditer(masked, open_pos):
        c = masked[m.start()]
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return m.start()
        else:
            return None
    return None


def _open_paren_before(masked: bytearray, pos: int) -> int | None:
    """Index of the unmatched `(` enclosing pos, scanning back within one statement."""
    lo = max(0, pos - 4000)
    depth = 0
    for m in reversed(list(_BRACKETS.finditer(masked, lo, pos))):
        c = masked[m.start()]
        if c == 0x29:
            depth += 1
        elif c == 0x28:
            if depth == 0:
                return m.start()
            depth -= 1
        else:
            return None
    return None


def _prev_significant(masked: bytearray, pos: int) -> int:
    i = pos - 1
    while i >= 0 and masked[i] in _SPACE:
        i -= 1
    return i


def _next_significant(masked: bytearray, pos: int) -> int:
    n = len(masked)
    while pos < n and masked[pos] in _SPACE:
        pos += 1
    return pos


def _strip_attributes(buf: _Buffers, kw: KernelWords) -> list[Annotation]:
    masked = buf.masked
    annotations: list[Annotation] = []
    spans: list[tuple[int, int]] = []
    for m in kw.with_arguments.finditer(masked):
        close = _close_paren(masked, m.end() - 1)
        if close is None:
            continue
        name = m.group(1).decode()
        if name in kw.recorded:
            arg = buf.source[m.end() : close].decode("utf-8", "replace")
            annotations.append(Annotation(name, " ".join(arg.split()), m.start(), close + 1))
        spans.append((m.start(), close + 1))
    for m in kw.bare_words.finditer(masked):
        spans.append(m.span())
    for start, end in spans:
        buf.blank(start, end)
    return annotations


def _declarator_macros(buf: _Buffers, kw: KernelWords) -> None:
    """`static DEFINE_PER_CPU(u64, x);` -> `static                u64  x ;`.

    Type-less `static NAME(a, b);` (DECLARE_BITMAP, DEFINE_HASHTABLE...) becomes
    `static NAME a     ;`, a declaration of `a` with the macro name as its type.
    """
    masked = buf.masked
    for m in _STATIC_MACRO.finditer(masked):
        open_pos = m.end() - 1
        close = _close_paren(masked, open_pos)
        if close is None:
            continue
        comma = masked.find(b",", open_pos, close)
        if comma < 0:
            continue
        after = _next_significant(masked, close + 1)
        if after >= len(masked) or masked[after] not in b";=":
            continue
        name = m.group(1).decode()
        if name in kw.type_first_declarators:
            buf.blank(m.start(1), open_pos + 1)
            buf.blank(comma, comma + 1)
            buf.blank(close, close + 1)
        else:
            buf.blank(open_pos, open_pos + 1)
            buf.blank(comma, close + 1)


def _block_macros(buf: _Buffers, kw: KernelWords) -> None:
    """Iterator macros with a body become `while`, scoped guards become `if`."""
    masked = buf.masked
    for m in kw.block_call.finditer(masked):
        name = m.group(1)
        start = m.start(1)
        prev = _prev_significant(masked, start)
        if prev >= 0 and masked[prev] not in _STATEMENT_BEFORE:
            before = _NAME_BEFORE.search(masked, max(0, prev - 8), prev + 1)
            if not before or before.group(1) not in (b"else", b"do"):
                continue
        open_pos = m.end() - 1
        close = _close_paren(masked, open_pos)
        if close is None:
            continue
        body = _next_significant(masked, close + 1)
        if body >= len(masked) or masked[body] not in _BODY_START:
            continue
        text = name.decode()
        if text in kw.if_names:
            keyword = b"if"
        elif kw.loop_names.fullmatch(name):
            keyword = b"while"
        else:
            continue
        if len(name) < len(keyword):
            continue
        buf.replace(start, keyword + b" " * (len(name) - len(keyword)))
        index = kw.statement_argument.get(text)
        if index is not None:
            _blank_argument(buf, open_pos, close, index)


def _blank_argument(buf: _Buffers, open_pos: int, close: int, index: int) -> None:
    """Blank argument `index` (0-based, index >= 1) together with the comma that ends it."""
    commas = _top_level_commas(buf.masked, open_pos, close)
    if index < 1 or index > len(commas):
        return
    end = commas[index] + 1 if index < len(commas) else close
    start = commas[index - 1] + 1 if index < len(commas) else commas[index - 1]
    buf.blank(start, end)


def _top_level_commas(masked: bytearray, open_pos: int, close: int) -> list[int]:
    commas: list[int] = []
    depth = 0
    for i in range(open_pos + 1, close):
        c = masked[i]
        if c in b"([{":
            depth += 1
        elif c in b")]}":
            depth -= 1
        elif c == 0x2C and depth == 0:
            commas.append(i)
    return commas


def _type_arguments(buf: _Buffers, kw: KernelWords) -> None:
    """`container_of(p, struct kvm, arch)` -> `container_of(p,        kvm, arch)`."""
    masked = buf.masked
    edits: list[tuple[int, bytes]] = []
    for m in _TYPE_ARG.finditer(masked):
        open_pos = m.start() - 1 if masked[m.start() - 1] == 0x28 else None
        if open_pos is None:
            open_pos = _open_paren_before(masked, m.start())
            if open_pos is None:
                continue
        callee = _NAME_BEFORE.search(masked, max(0, open_pos - 80), open_pos)
        if not callee:
            continue
        name = callee.group(1).decode()
        if name == "offsetof":
            _complex_offsetof(buf, callee.start(1), m.end())
            continue
        if name in kw.not_macros:
            continue
        if name not in kw.type_argument_macros and not _ALL_CAPS.fullmatch(callee.group(1)):
            continue
        edits.append((m.start("type"), _type_as_identifier(m.group("type"))))
    for start, new in edits:
        buf.replace(start, new)


def _complex_offsetof(buf: _Buffers, name_pos: int, type_end: int) -> None:
    """`offsetof(struct T, a.b[2])`: the grammar takes only a plain field name there.

    Renaming the keyword to the identifier `offsetOf` turns it into an ordinary call, and
    the type argument is then blanked like any macro's.
    """
    masked = buf.masked
    close = _close_paren(masked, masked.find(b"(", name_pos))
    if close is None:
        return
    member = bytes(masked[type_end:close])
    if b"." not in member and b"[" not in member:
        return
    buf.replace(name_pos, b"offsetOf")
    m = _TYPE_ARG.match(masked, name_pos + len(b"offsetof") + 1)
    if m:
        buf.replace(m.start("type"), _type_as_identifier(m.group("type")))


def _unterminated_top_level_calls(buf: _Buffers) -> None:
    """Blank `BUILD_HELPER(read)` lines at file scope that end without a `;`.

    Such invocations expand to whole definitions; left in place, the grammar glues them to
    the next function's head and loses that function.
    """
    masked = buf.masked
    depth = 0
    prev = 0
    for m in _LINE_CALL.finditer(masked):
        close = _close_paren(masked, m.end() - 1)
        if close is None:
            continue
        after = _next_significant(masked, close + 1)
        if after < len(masked) and not (masked[after] == 0x5F or chr(masked[after]).isalpha()):
            continue
        depth += masked.count(b"{", prev, m.start()) - masked.count(b"}", prev, m.start())
        prev = m.start()
        if depth == 0 and masked.count(b"\n", close, after) > 0:
            buf.blank(m.start(), close + 1)


def _type_as_identifier(type_text: bytes) -> bytes:
    """Same-length identifier for a type: drop keywords and stars, join words with `_`."""
    blanked = _TYPE_KEYWORD.sub(lambda m: b" " * len(m.group()), type_text)
    core = blanked.strip()
    if not core:
        return type_text
    lead = len(blanked) - len(blanked.lstrip())
    if b"\n" in core or b"\r" in core:
        return blanked
    joined = core.replace(b" ", b"_").replace(b"\t", b"_")
    return b" " * lead + joined + b" " * (len(blanked) - lead - len(core))


def _case_ranges(buf: _Buffers) -> None:
    """GNU ranges `case A ... B:` and `[A ... B] =` become `A  || B`."""
    masked = buf.masked
    for m in _CASE_RANGE.finditer(masked):
        prev = _prev_significant(masked, m.start())
        if prev < 0 or masked[prev] in b",(":
            continue  # a variadic parameter list
        buf.replace(m.start(), b" ||")
