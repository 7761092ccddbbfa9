"""An open document on the server side: its bytes, kept in step with the editor's changes,
and the incremental parse and per-function results derived from them."""

from __future__ import annotations

from bisect import bisect_right

from lsprotocol import types

from kvmlock.analysis.engine import FunctionResult
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.live import LiveDocument
from kvmlock.lsp.positions import LineIndex
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
        self.findings: list[Finding] = []
        self.analysed_version: int | None = None

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
            self.source = apply_edits(self.source, [ByteEdit(start, end, _encode(change.text))])
        else:
            self.source = _encode(change.text)

    def analyse(self, rules: RuleBase, enabled: frozenset[str]) -> list[Finding]:
        """Bring the parse up to date (incrementally) and re-analyse changed functions."""
        self.findings = self.live.update(self.source, rules, enabled)
        self.parsed = self.live.parsed
        self.results = self.live.results
        self.analysed_version = self.version
        return self.findings

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
