"""Same-length rewrite of kernel C so that tree-sitter-c can parse it.

Every edit replaces bytes with the same number of bytes and never touches a newline, so
byte offsets, lines and columns of the rewritten tree are those of the original text. The
original bytes stay the source of truth: the analysis reads them back (for example the macro
name at the start of a `while` that used to be `kvm_for_each_vcpu`).

All matching is done on a *masked* copy in which comments, string/char literal contents and
preprocessor lines are spaces, so `scoped_guard(` inside a comment is never rewritten.

Speed: the scans use literal searches (`bytes.find`, single-literal patterns, which CPython's
regex engine skips through quickly) and look at the few hits in Python; alternations such as
`\\b(?:a|b|c)` are an order of magnitude slower on a 14k-line file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from kvmlock.syntax.words import KernelWords, load_words

# Every byte except CR and LF becomes a space.
_BLANK = bytes(b if b in (0x0A, 0x0D) else 0x20 for b in range(256))
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPACE = b" \t\r\n\f\v"

_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"?')
_CHAR = re.compile(rb"'(?:[^'\\\n]|\\.)*'?")
_DIRECTIVE = re.compile(rb"\n[ \t]*#(?:[^\n\\]|\\.)*", re.S)
_FIRST_DIRECTIVE = re.compile(rb"[ \t]*#(?:[^\n\\]|\\.)*", re.S)
_DEFINE_PARAMS = re.compile(rb"\s*#[ \t]*define[ \t]+\w+\(([^)\n]*)\)")
_NAMED_DOTS = re.compile(rb"\w[ \t]*(\.\.\.)")
_COND = re.compile(rb"\s*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b")
_BRACKETS = re.compile(rb"[(){};]")
_BODY_END = re.compile(rb"\}[ \t]*\n(?:[ \t]*\n)*(?=[A-Za-z_])")
_NAME_BEFORE = re.compile(rb"([A-Za-z_]\w*)\s*\Z")
_IDENT = re.compile(rb"[A-Za-z_]\w*")
# A whole macro argument that is a type, not an expression.
_TYPE_ARG = re.compile(
    rb"""\s*
    (?P<type>
        (?:const\s+)?(?:struct|union|enum)\s+[A-Za-z_]\w*(?:\s*\*)*
      | (?:const\s+)?(?:unsigned|signed|long|short)(?:\s+(?:unsigned|signed|long|short|int|char))+
        (?:\s*\*)*
      | (?:const\s+)?[A-Za-z_]\w*(?:\s*\*)+
    )\s*(?=[,)])""",
    re.X,
)
# A type keyword whose type is followed by `,` or `)`: the literal start keeps the scan fast,
# and the tail leaves out the far more common declarations (`struct kvm *kvm = ...`).
_TYPE_WORDS = (
    re.compile(rb"struct\s+\w+[\s*]*[,)]"),
    re.compile(rb"union\s+\w+[\s*]*[,)]"),
    re.compile(rb"enum\s+\w+[\s*]*[,)]"),
    re.compile(rb"unsigned(?:\s+(?:long|int|short|char))*[\s*]*[,)]"),
)
_STAR_END = re.compile(rb"\*[ \t]*[,)]")
_TYPE_KEYWORD = re.compile(rb"\b(?:const|struct|union|enum)\b|\*")
_CASE_RANGE = re.compile(rb"\.\.\.")
_STATIC_MACRO = re.compile(rb"static\s+(?:const\s+)?([A-Z][A-Z0-9_]*)\s*\(")
_LINE_CALL = re.compile(rb"\n([A-Za-z_]\w*)[ \t]*\(")
_FIRST_LINE_CALL = re.compile(rb"([A-Za-z_]\w*)[ \t]*\(")
_ALL_CAPS = re.compile(rb"[A-Z][A-Z0-9_]*")
_OPEN_BRACE = re.compile(rb"\{")
_CLOSE_BRACE = re.compile(rb"\}")
# Previous significant byte that puts a macro in statement position.
_STATEMENT_BEFORE = frozenset(b";{}):")
# First byte of an unbraced loop/guard body.
_BODY_START = frozenset(b"{(*+-_" + bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)))
_OPERATOR = frozenset(b"=|&+-*/<>?!~^%")


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
    _mask_comments_and_literals(buf)
    directives = _mask_directives(buf)
    _flatten_awkward_conditionals(buf, directives)
    _named_variadic_parameters(buf, directives)
    annotations = _strip_attributes(buf, kw)
    _declarator_macros(buf, kw)
    _field_declarator_macros(buf, kw)
    _block_macros(buf, kw)
    _type_arguments(buf, kw)
    _unterminated_top_level_calls(buf)
    _case_ranges(buf)
    _asm_macros(buf)
    text = bytes(buf.out)
    if len(text) != len(source):  # pragma: no cover - an edit bug, never data
        raise AssertionError("rewrite changed the length")
    return Rewritten(text=text, annotations=annotations)


def macro_name_at(source: bytes, byte: int) -> str | None:
    """The identifier starting at `byte` of the original text, e.g. `kvm_for_each_vcpu`."""
    m = _IDENT.match(source, byte)
    return m.group().decode("ascii", "replace") if m else None


# --- lexical masking ---------------------------------------------------------------------


def _mask_comments_and_literals(buf: _Buffers) -> None:
    """Blank comments and the insides of string/char literals in the masked copy."""
    src = buf.source
    masked = buf.masked
    n = len(src)
    find = src.find
    # Next occurrence of each opener, refreshed only once passed: linear overall.
    nxt = {b"/": find(b"/"), b'"': find(b'"'), b"'": find(b"'")}
    i = 0
    while True:
        for key, pos in nxt.items():
            if 0 <= pos < i:
                nxt[key] = find(key, i)
        live = [p for p in nxt.values() if p >= 0]
        if not live:
            return
        p = min(live)
        c = src[p]
        if c == 0x2F:  # '/'
            follow = src[p + 1 : p + 2]
            if follow == b"*":
                e = find(b"*/", p + 2)
                end = n if e < 0 else e + 2
            elif follow == b"/":
                e = find(b"\n", p)
                end = n if e < 0 else e
            else:
                i = p + 1
                continue
            masked[p:end] = masked[p:end].translate(_BLANK)
        else:
            m = (_STRING if c == 0x22 else _CHAR).match(src, p)
            end = m.end() if m else p + 1
            # Keep the quotes so an argument list still has something in that slot.
            if end - p > 2:
                masked[p + 1 : end - 1] = masked[p + 1 : end - 1].translate(_BLANK)
        i = max(end, p + 1)


def _mask_directives(buf: _Buffers) -> list[tuple[int, int]]:
    """Blank preprocessor lines (with continuations) in the masked copy; return their spans."""
    masked = buf.masked
    spans: list[tuple[int, int]] = []
    first = _FIRST_DIRECTIVE.match(masked)
    if first:
        spans.append(first.span())
    spans.extend((m.start() + 1, m.end()) for m in _DIRECTIVE.finditer(masked))
    for start, end in spans:
        masked[start:end] = masked[start:end].translate(_BLANK)
    return spans


def _named_variadic_parameters(buf: _Buffers, directives: list[tuple[int, int]]) -> None:
    """`#define pr(fmt, args...)`: GNU named variadics are not in the grammar; drop the dots."""
    src = buf.source
    for start, end in directives:
        if src.find(b"...", start, end) < 0:
            continue
        m = _DEFINE_PARAMS.match(src, start, end)
        if not m:
            continue
        for dots in _NAMED_DOTS.finditer(src, m.start(1), m.end(1)):
            buf.out[dots.start(1) : dots.end(1)] = b"   "


# --- scanning helpers --------------------------------------------------------------------


def _prev_significant(masked: bytearray, pos: int) -> int:
    """Index of the last non-space byte before pos, or -1."""
    i = pos - 1
    if i >= 0 and masked[i] not in _SPACE:
        return i
    window = 64
    while True:
        lo = max(0, pos - window)
        chunk = masked[lo:pos].rstrip()
        if chunk:
            return lo + len(chunk) - 1
        if lo == 0:
            return -1
        window *= 8


def _next_significant(masked: bytearray, pos: int) -> int:
    n = len(masked)
    while pos < n and masked[pos] in _SPACE:
        pos += 1
    return pos


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


def _identifiers_containing(
    masked: bytearray, literals: frozenset[str]
) -> Iterator[tuple[int, bytes]]:
    """(start, name) of each whole identifier containing one of the literals, in order."""
    seen: set[int] = set()
    hits: list[tuple[int, bytes]] = []
    for pattern in _literal_patterns(literals):
        for m in pattern.finditer(masked):
            start = m.start()
            while start > 0 and masked[start - 1] in _WORD_BYTES:
                start -= 1
            if start in seen:
                continue
            if start > 0 and 0x30 <= masked[start] <= 0x39:
                continue  # inside a number
            seen.add(start)
            hits.append((start, bytes(masked[start : m.end()])))
    hits.sort()
    return iter(hits)


@lru_cache(maxsize=32)
def _literal_patterns(literals: frozenset[str]) -> tuple[re.Pattern[bytes], ...]:
    # `kvm_for_each_vcpu` is found by the scan for `for_each` anyway.
    unique = sorted(lit for lit in literals if not any(o != lit and o in lit for o in literals))
    # The `\w*` tail consumes the rest of the identifier: one hit per identifier.
    return tuple(re.compile(re.escape(lit.encode()) + rb"\w*") for lit in unique)


# --- preprocessor conditionals -----------------------------------------------------------


def _flatten_awkward_conditionals(buf: _Buffers, directives: list[tuple[int, int]]) -> None:
    """Keep only the first branch of #if groups the grammar cannot hold.

    tree-sitter-c accepts #if only where a statement, declaration or field could stand, and
    only if each branch is complete on its own. An #if inside a parenthesised expression
    once turned the rest of x86.c into one ERROR node; initialiser lists, branches that
    begin or end with a dangling `else`, `x &=` followed by #ifdef, and `} else {` inside a
    branch fail the same way.
    """
    groups = _conditional_groups(buf.source, directives)
    if not groups:
        return
    masked = buf.masked
    awkward_at = _awkward_positions(masked, [g[0][0] for g in groups])
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


def _awkward_positions(masked: bytearray, starts: list[int]) -> set[int]:
    """#if positions inside parentheses, an expression, an initialiser or after `if (x)`."""
    awkward: set[int] = set()
    paren = brace = 0
    prev = 0
    for start in sorted(starts):
        # No parenthesis stays open past the end of a body: a `}` in column 0, or (looked
        # for only when one seems open) a `}` ending its line before a line that starts in
        # column 0. Counted from there, a `(` being typed in one function leaves the #if
        # groups of the functions after it as they were (found by the edit fuzz).
        end = masked.rfind(b"\n}", prev, start)
        if end >= 0:
            paren = masked.count(b"(", end, start) - masked.count(b")", end, start)
        else:
            paren += masked.count(b"(", prev, start) - masked.count(b")", prev, start)
        if paren > 0:
            for m in _BODY_END.finditer(masked, max(end, prev), start):
                end = m.end()
            if end > prev:
                paren = masked.count(b"(", end, start) - masked.count(b")", end, start)
        brace += masked.count(b"{", prev, start) - masked.count(b"}", prev, start)
        prev = start
        before = _prev_significant(masked, start)
        in_expression = paren > 0 or (before >= 0 and masked[before] in _OPERATOR)
        if in_expression or (
            brace > 0 and (_expects_statement(masked, before) or _in_initialiser(masked, start))
        ):
            awkward.add(start)
    return awkward


def _in_initialiser(masked: bytearray, pos: int) -> bool:
    """Whether the innermost open brace before pos starts an initialiser (`= {`, `, {`)."""
    depth = 0
    p = pos
    while True:
        o = masked.rfind(b"{", 0, p)
        c = masked.rfind(b"}", 0, p)
        if o < 0:
            return False
        if c > o:
            depth += 1
            p = c
            continue
        if depth == 0:
            before = _prev_significant(masked, o)
            return before >= 0 and masked[before] in b"=,{"
        depth -= 1
        p = o


def _expects_statement(masked: bytearray, before: int) -> bool:
    """After `if (x)`, `else` or a label the grammar wants one statement, not an #if."""
    if before < 0:
        return False
    if masked[before] in b"):":
        return True
    word = _NAME_BEFORE.search(masked, max(0, before - 8), before + 1)
    return bool(word) and word.group(1) in (b"else", b"do")


def _branch_ok(masked: bytearray, start: int, end: int) -> bool:
    """A branch the grammar can hold: brackets balance within it and no `else` dangles.

    Counting (C speed) plus a look at the first closing bracket stands in for a full nesting
    walk, which costs milliseconds on branches that span hundreds of lines.
    """
    first = _next_significant(masked, start)
    if first >= end:
        return True
    word = _IDENT.match(masked, first, end)
    if word and word.group() == b"else":
        return False
    last = _prev_significant(masked, end)
    tail = _NAME_BEFORE.search(masked, max(first, last - 7), last + 1)
    if tail and tail.group(1) == b"else":
        return False
    for opener, closer in ((b"(", b")"), (b"{", b"}")):
        if masked.count(opener, start, end) != masked.count(closer, start, end):
            return False
        close = masked.find(closer, start, end)
        if close >= 0 and masked.find(opener, start, close) < 0:
            return False
    return True


# --- attributes and annotations ----------------------------------------------------------


def _strip_attributes(buf: _Buffers, kw: KernelWords) -> list[Annotation]:
    masked = buf.masked
    annotations: list[Annotation] = []
    spans: list[tuple[int, int]] = []
    for start, name_b in _identifiers_containing(masked, kw.attribute_literals):
        name = name_b.decode()
        end = start + len(name_b)
        if name in kw.bare_words:
            spans.append((start, end))
            continue
        if name not in kw.with_arguments:
            continue
        open_pos = _next_significant(masked, end)
        if open_pos >= len(masked) or masked[open_pos] != 0x28:
            continue
        close = _close_paren(masked, open_pos)
        if close is None:
            continue
        if name in kw.recorded:
            arg = buf.source[open_pos + 1 : close].decode("utf-8", "replace")
            annotations.append(Annotation(name, " ".join(arg.split()), start, close + 1))
        spans.append((start, close + 1))
    for start, end in spans:
        buf.blank(start, end)
    return annotations


# --- macros that look like declarations or statements ------------------------------------


def _declarator_macros(buf: _Buffers, kw: KernelWords) -> None:
    """`static DEFINE_PER_CPU(u64, x);` -> `static                u64  x ;`.

    Type-less `static NAME(a, b);` (DECLARE_BITMAP, DEFINE_HASHTABLE...) becomes
    `static NAME a     ;`, a declaration of `a` with the macro name as its type.
    """
    masked = buf.masked
    for m in _STATIC_MACRO.finditer(masked):
        if m.start() > 0 and masked[m.start() - 1] in _WORD_BYTES:
            continue
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


def _field_declarator_macros(buf: _Buffers, kw: KernelWords) -> None:
    """`DECLARE_BITMAP(read, N);` as a struct field -> `DECLARE_BITMAP read   ;`.

    The grammar takes the call for a field declaration with a K&R-style parameter list and
    fails on the second argument; as `TYPE name;` it is a plain field (or local variable).
    """
    masked = buf.masked
    for start, name in _identifiers_containing(masked, kw.field_declarator_literals):
        if name.decode() not in kw.name_first_declarators:
            continue
        prev = _prev_significant(masked, start)
        if prev >= 0 and masked[prev] not in b";{}":
            continue
        open_pos = start + len(name)
        if open_pos >= len(masked) or masked[open_pos] != 0x28:
            continue
        close = _close_paren(masked, open_pos)
        if close is None:
            continue
        comma = masked.find(b",", open_pos, close)
        after = _next_significant(masked, close + 1)
        if comma < 0 or after >= len(masked) or masked[after] != 0x3B:
            continue
        buf.blank(open_pos, open_pos + 1)
        buf.blank(comma, close + 1)


def _block_macros(buf: _Buffers, kw: KernelWords) -> None:
    """Iterator macros with a body become `while`, scoped guards become `if`."""
    masked = buf.masked
    for start, name in _identifiers_containing(masked, kw.block_literals):
        text = name.decode()
        if text in kw.if_macros:
            keyword = b"if"
        elif kw.is_loop(text):
            keyword = b"while"
        else:
            continue
        open_pos = _next_significant(masked, start + len(name))
        if open_pos >= len(masked) or masked[open_pos] != 0x28:
            continue
        prev = _prev_significant(masked, start)
        if prev >= 0 and masked[prev] not in _STATEMENT_BEFORE:
            before = _NAME_BEFORE.search(masked, max(0, prev - 8), prev + 1)
            if not before or before.group(1) not in (b"else", b"do"):
                continue
        close = _close_paren(masked, open_pos)
        if close is None:
            continue
        body = _next_significant(masked, close + 1)
        if body >= len(masked) or masked[body] not in _BODY_START:
            continue
        if len(name) < len(keyword):
            continue
        buf.replace(start, keyword + b" " * (len(name) - len(keyword)))
        index = kw.statement_argument.get(text)
        if index is not None:
            _blank_argument(buf, open_pos, close, index)


def _blank_argument(buf: _Buffers, open_pos: int, close: int, index: int) -> None:
    """Blank argument `index` (0-based, index >= 1) together with one comma next to it."""
    commas = _top_level_commas(buf.masked, open_pos, close)
    if index < 1 or index > len(commas):
        return
    if index < len(commas):
        start, end = commas[index - 1] + 1, commas[index] + 1
    else:
        start, end = commas[index - 1], close
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


def _unterminated_top_level_calls(buf: _Buffers) -> None:
    """Blank `BUILD_HELPER(read)` lines at file scope that end without a `;`.

    Such invocations expand to whole definitions; left in place, the grammar glues them to
    the next function's head and loses that function.
    """
    masked = buf.masked
    depth = 0
    prev = 0
    first = _FIRST_LINE_CALL.match(masked)
    calls = ([(0, first.end())] if first else []) + [
        (m.start() + 1, m.end()) for m in _LINE_CALL.finditer(masked)
    ]
    for start, call_end in calls:
        close = _close_paren(masked, call_end - 1)
        if close is None:
            continue
        after = _next_significant(masked, close + 1)
        if after < len(masked) and masked[after] not in _WORD_BYTES:
            continue
        if after < len(masked) and 0x30 <= masked[after] <= 0x39:
            continue
        depth += masked.count(b"{", prev, start) - masked.count(b"}", prev, start)
        prev = start
        if depth == 0 and masked.find(b"\n", close, after) >= 0:
            buf.blank(start, close + 1)


# --- type arguments ----------------------------------------------------------------------


def _type_arguments(buf: _Buffers, kw: KernelWords) -> None:
    """`container_of(p, struct kvm, arch)` -> `container_of(p,        kvm, arch)`."""
    masked = buf.masked
    edits: list[tuple[int, bytes]] = []
    for arg_start in sorted(_type_argument_starts(masked)):
        m = _TYPE_ARG.match(masked, arg_start)
        if not m:
            continue
        sep = arg_start - 1
        open_pos = sep if masked[sep] == 0x28 else _open_paren_before(masked, sep)
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


def _type_argument_starts(masked: bytearray) -> set[int]:
    """Positions just after a `(` or `,` where a type might be the whole argument."""
    starts: set[int] = set()
    for pattern in _TYPE_WORDS:
        for m in pattern.finditer(masked):
            pos = m.start()
            before = pos - 1
            if before >= 0 and masked[before] in _WORD_BYTES:
                continue
            if before >= 0 and masked[before] in _SPACE:
                before = _prev_significant(masked, pos)
            if before >= 0 and masked[before] in b"(,":
                starts.add(before + 1)
    for m in _STAR_END.finditer(masked):
        start = _pointer_type_start(masked, m.start())
        if start is not None:
            starts.add(start)
    return starts


def _pointer_type_start(masked: bytearray, star: int) -> int | None:
    """For `T *,` / `struct T *)`: the position after the `(` or `,` before the type."""
    p = star
    while p > 0 and masked[p - 1] in b"* \t\n":
        p -= 1
    end = p
    while p > 0 and masked[p - 1] in _WORD_BYTES:
        p -= 1
    if p == end:
        return None
    before = _prev_significant(masked, p)
    word = _NAME_BEFORE.search(masked, max(0, before - 7), before + 1) if before >= 0 else None
    if word and word.group(1) in (b"struct", b"union", b"enum", b"const"):
        before = _prev_significant(masked, word.start(1))
    if before >= 0 and masked[before] in b"(,":
        if masked[before] == 0x28 and not _NAME_BEFORE.search(masked, max(0, before - 40), before):
            return None  # a cast such as `(void *)`
        return before + 1
    return None


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


def _type_as_identifier(type_text: bytes) -> bytes:
    """Same-length identifier for a type: drop keywords and stars, join words with `_`."""
    blanked = _TYPE_KEYWORD.sub(lambda m: b" " * len(m.group()), type_text)
    core = blanked.strip()
    if not core:
        return type_text
    if b"\n" in core or b"\r" in core:
        return blanked
    lead = len(blanked) - len(blanked.lstrip())
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


# --- asm statements ---------------------------------------------------------------------------

_ASM = re.compile(
    rb"\b(?:asm|__asm__|__asm)\b(?:\s+(?:volatile|__volatile__|goto|inline|__inline__))*\s*\("
)
_ASM_TOKEN = re.compile(rb"\[[^\]]*\]|[A-Za-z_]\w*|[():,]")


def _asm_macros(buf: _Buffers) -> None:
    """Blank macros spliced into asm templates and operand lists.

    `asm volatile("1: xchgb %0, %2\\n" _ASM_EXTABLE_UA(1b, 2b) : ...)` is a string pasted by the
    preprocessor; tree-sitter sees an identifier between strings and gives up on the statement.
    Identifiers directly inside the asm parentheses are never C there, except the goto labels
    after the fourth colon, which stay.
    """
    masked = buf.masked
    for match in _ASM.finditer(masked):
        open_pos = match.end() - 1
        close = _close_paren(masked, open_pos)
        if close is None:
            continue
        depth = 0
        colons = 0
        pos = open_pos
        while pos < close:
            token = _ASM_TOKEN.search(masked, pos, close + 1)
            if token is None:
                break
            text = token.group()
            pos = token.end()
            if text == b"(":
                depth += 1
            elif text == b")":
                depth -= 1
            elif text == b":" and depth == 1:
                colons += 1
            elif depth == 1 and colons < 4 and text[:1] not in (b",", b":", b"["):
                end = token.end()
                after = _next_significant(masked, end)
                if after < close and masked[after] == 0x28:
                    inner_close = _close_paren(masked, after)
                    if inner_close is None or inner_close > close:
                        break
                    end = inner_close + 1
                buf.blank(token.start(), end)
                pos = end
