"""An open document on the server side: its bytes, kept in step with the editor's changes,
and the incremental parse and per-function results derived from them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping

from lsprotocol import types

from kvmlock.analysis.engine import FunctionResult
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.live import LiveDocument
from kvmlock.analysis.observations import CallEffect
from kvmlock.lsp.diagnostics import DiagnosticMemo, Rendered
from kvmlock.lsp.positions import LineIndex
from kvmlock.lsp.settings import Settings
from kvmlock.rules.model import RuleBase
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.functions import FunctionInfo
from kvmlock.syntax.incremental import ByteEdit, apply_edits


class OpenDocument:
    def __init__(self, uri: str, path: str, text: str, version: int | None) -> None:
        self.uri = uri
        self.path = path
        self.version = version
        self.source = _encode(text)
        self._index: LineIndex | None = None
        self.live = LiveDocument(path)
        self.parsed: SourceDocument | None = None
        self.results: list[FunctionResult] = []
        self.memo = DiagnosticMemo()
        self.analysed_version: int | None = None
        # What the changes since the last analysis touched: (start, old_end, new_end) in the
        # analysed / current bytes; None when unknown (a whole-text change).
        self._changed: tuple[int, int, int] | None = None
        self._changed_known = True

    @property
    def index(self) -> LineIndex:
        if self._index is None or self._index.data is not self.source:
            starts = None
            if self.parsed is not None and self.parsed.source is self.source:
                starts = self.parsed._line_starts
            self._index = LineIndex(self.source, starts)
        return self._index

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        """Apply one content change; positions refer to the text after the previous one."""
        if isinstance(change, types.TextDocumentContentChangePartial):
            start = self.index.offset(change.range.start, encoding)
            end = self.index.offset(change.range.end, encoding)
            if end < start:
                start, end = end, start
            text = _encode(change.text)
            self.source = apply_edits(self.source, [ByteEdit(start, end, text)])
            self._note_change(start, end, start + len(text))
        else:
            self.source = _encode(change.text)
            self._changed, self._changed_known = None, False

    def _note_change(self, start: int, end: int, new_end: int) -> None:
        """Merge one change (offsets in the text it applied to) into the range touched since
        the last analysis."""
        if not self._changed_known:
            return
        if self._changed is None:
            self._changed = (start, end, new_end)
            return
        first, old_end, touched_end = self._changed
        reach = max(touched_end, end)  # in the text before this change; after it, moved
        self._changed = (
            min(first, start),
            old_end + (reach - touched_end),
            reach + (new_end - end),
        )

    def analyse(
        self,
        rules: RuleBase,
        enabled: frozenset[str],
        call_effects: Mapping[str, CallEffect] | None = None,
    ) -> None:
        """Bring the parse up to date (incrementally) and re-analyse changed functions (and
        those whose calls' effects changed)."""
        hint = self._changed if self._changed_known else None
        self._changed, self._changed_known = None, True
        self.live.update(self.source, rules, enabled, hint, call_effects)
        self.parsed = self.live.parsed
        self.results = self.live.results
        self.analysed_version = self.version

    @property
    def findings(self) -> list[Finding]:
        """The findings of the text last analysed (listed when asked for)."""
        return self.live.findings if self.parsed is not None else []

    def diagnostics(self, encoding: str, settings: Settings) -> Rendered:
        """The findings of the text last analysed as (sort key, diagnostic), sorted; only
        the functions whose findings changed since the last call are rendered again."""
        if self.parsed is None:
            return []
        return self.memo.render(self.live, self.uri, self.index, encoding, settings)

    def function_at(self, byte: int) -> tuple[FunctionInfo, FunctionResult] | None:
        if self.parsed is None:
            return None
        functions = self.parsed.functions
        starts = [f.start_byte for f in functions]
        index = bisect_right(starts, byte) - 1
        if index < 0 or byte > functions[index].end_byte or index >= len(self.results):
            return None
        return functions[index], self.results[index]

    def result_named(self, name: str) -> FunctionResult | None:
        return next((r for r in self.results if r.name == name), None)


def _encode(text: str) -> bytes:
    # Lone surrogates can arrive in JSON strings; they become "?" rather than an error.
    return text.encode("utf-8", "replace")
