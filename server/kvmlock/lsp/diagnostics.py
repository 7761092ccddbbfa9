"""An open document's diagnostics, kept per function result between keystrokes.

LSP has no partial update: every publish carries all of a file's diagnostics. Typing inside
one function changes that function's findings only; the others keep their lines (no
newline typed) and so their diagnostics, byte for byte, even though their byte offsets
moved. Each result's diagnostics are therefore kept with what they were rendered from —
how many lines the function moved since it was analysed, the text sharing its first and
last lines, the settings — and rendered again only when one of those changes. A keystroke
then renders the edited function's findings and no others, however many the file has.

A result's own bytes are part of the analysis cache's key, so an unchanged result means
unchanged function text: its findings' lines differ only where the function's first or last
line is shared with text outside it (a suppression comment after `}`, UTF-16 columns of
something before the function on its line). Those two pieces are in the key.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from heapq import merge
from itertools import chain, islice
from math import inf
from operator import attrgetter, itemgetter, le

from lsprotocol import types

from kvmlock.analysis.engine import FunctionResult, unsuppressed
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.live import LiveDocument
from kvmlock.lsp.positions import LineIndex
from kvmlock.lsp.render import to_diagnostic
from kvmlock.lsp.settings import Settings

SortKey = tuple[str, int, int, str]
Rendered = list[tuple[SortKey, types.Diagnostic]]
_KEY = itemgetter(0)
_DIAGNOSTIC = itemgetter(1)
_RENDERED = attrgetter("rendered")


@dataclass
class _Entry:
    result: FunctionResult  # held so that its id is not reused while the entry lives
    key: tuple
    rendered: Rendered


class DiagnosticMemo:
    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}  # by id(result)
        self._order: list[_Entry] = []  # the last render's results with findings, in order
        self._seen: list[FunctionResult] | None = None  # the results it rendered
        self._context: tuple | None = None
        self._settings: Settings | None = None  # keeps id(settings) unique while in the key
        self.rendered = 0  # results rendered (not reused): what the tests look at

    def render(
        self, live: LiveDocument, uri: str, index: LineIndex, encoding: str, settings: Settings
    ) -> Rendered:
        """(sort key, diagnostic) of the findings of the text `live` last analysed, sorted
        as `collect_findings` sorts findings, suppressions applied."""
        context = (uri, encoding, id(settings))
        if context != self._context:
            self._entries.clear()
            self._seen = None
            self._context = context
            self._settings = settings
        assert live.parsed is not None
        draw = _Drawer(self, live.parsed.source, live.marked, uri, index, encoding, settings)
        splice = live.last_splice
        if (
            self._seen is not None
            and live.spliced_from is self._seen
            and splice is not None
            and splice[2] == 0
        ):
            order = self._spliced(live.results, splice[0], splice[1], draw)
        else:
            order = [draw.entry(result) for result in live.with_findings()]
        # Per keystroke this is all of the file's findings: joined and checked in C.
        out: Rendered = list(chain.from_iterable(map(_RENDERED, order)))
        keys = list(map(_KEY, out))
        in_order = all(map(le, keys, islice(keys, 1, None)))
        if not in_order:  # two functions on one line
            out.sort(key=_KEY)
        # The next render may start from this one only if its order was the functions'.
        self._seen = live.results if in_order else None
        self._order = order
        if len(self._entries) > 2 * len(order) + 64:
            self._entries = {id(e.result): e for e in order}
        return out

    def _spliced(
        self, results: list[FunctionResult], before: int, after: int, draw: _Drawer
    ) -> list[_Entry]:
        """The last order with the stretch between the kept functions looked up again. The
        kept ones did not move by a line and the text of their lines is what it was (the
        re-index keeps no function that shares a line with the edit): their entries hold."""
        previous = self._order
        low, high = before, len(results) - after
        first = 0
        if low > 0:
            bound = _start(results[low - 1])
            # Entries of kept functions start at or before the last one; the others do not
            # (those of functions that went away have no slot).
            first = bisect_right(previous, bound, key=lambda e: _start(e.result, inf))
        last = len(previous)
        if high < len(results):
            bound = _start(results[high])
            last = max(bisect_left(previous, bound, key=lambda e: _start(e.result, -1)), first)
        middle = [draw.entry(r) for r in results[low:high] if r.raw_findings]
        return [*previous[:first], *middle, *previous[last:]]


class _Drawer:
    """Renders one result's findings, or finds them rendered already."""

    def __init__(
        self,
        memo: DiagnosticMemo,
        source: bytes,
        marked: bool,
        uri: str,
        index: LineIndex,
        encoding: str,
        settings: Settings,
    ) -> None:
        self.memo = memo
        self.source = source
        self.marked = marked
        self.uri = uri
        self.index = index
        self.encoding = encoding
        self.settings = settings

    def entry(self, result: FunctionResult) -> _Entry:
        key = _key(result, self.source)
        memo = self.memo
        entry = memo._entries.get(id(result))
        if entry is None or entry.result is not result or entry.key != key or key is None:
            findings = sorted(
                unsuppressed(self.source, result.findings, self.marked), key=Finding.sort_key
            )
            drawn = rendered(findings, self.uri, self.index, self.encoding, self.settings)
            if not _inside(result):
                key = None  # a finding outside its function's lines: never reused
            entry = memo._entries[id(result)] = _Entry(result, key, drawn)
            memo.rendered += 1
        return entry


def _start(result: FunctionResult, missing: float = -1) -> float:
    slot = result.slot
    return slot.start_byte if slot is not None else missing


def merged(own: Rendered, others: Rendered) -> list[types.Diagnostic]:
    """Both sorted lists as one, `own` first among equal keys (as a stable sort would)."""
    return list(map(_DIAGNOSTIC, merge(own, others, key=_KEY) if others else own))


def rendered(
    findings: list[Finding], uri: str, index: LineIndex, encoding: str, settings: Settings
) -> Rendered:
    return [
        (f.sort_key(), to_diagnostic(f, uri, index, encoding, settings)) for f in findings
    ]


def _key(result: FunctionResult, source: bytes) -> tuple | None:
    slot = result.slot
    if slot is None:
        return None
    start, end = slot.start_byte, slot.end_byte
    line_end = source.find(b"\n", end)
    return (
        result.moved_by[1],
        source[source.rfind(b"\n", 0, start) + 1 : start],
        source[end : line_end if line_end >= 0 else len(source)],
    )


def _inside(result: FunctionResult) -> bool:
    slot = result.slot
    return slot is not None and all(
        slot.start_byte <= f.span.start_byte and f.span.end_byte <= slot.end_byte
        for f in result.findings
    )
