"""Per-function results reused across edits.

A function's findings depend on its own bytes, where it starts (line and column: messages
name lines) and the file-wide context (rules, enabled checks, arch, whether it is an MMU
notifier callback). The cache is keyed by the bytes, the start column and that context, and
remembers where the function was when analysed; a hit elsewhere is moved there. So an edit
re-analyses only the functions whose bytes it changed, and typing a newline above a function
moves its findings instead of recomputing them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kvmlock.analysis.engine import FileContext, FunctionResult, analyse_function
from kvmlock.analysis.findings import Finding
from kvmlock.syntax.document import SourceDocument


@dataclass
class _Entry:
    result: FunctionResult
    start_byte: int
    start_line: int


@dataclass
class CacheStats:
    analysed: int = 0
    reused: int = 0


class FunctionCache:
    def __init__(self) -> None:
        self._entries: dict[tuple, _Entry] = {}
        self.stats = CacheStats()

    def results(self, doc: SourceDocument, ctx: FileContext) -> list[FunctionResult]:
        """Results for every function of `doc`, analysing only those not seen before."""
        fresh: dict[tuple, _Entry] = {}
        results = []
        context = (id(ctx.rules), ctx.enabled, ctx.arch)
        for fn in doc.functions:
            line, column = doc.line_col(fn.start_byte)
            key = (
                doc.source[fn.start_byte : fn.end_byte],
                column,
                context,
                fn.name in ctx.notifier_callbacks,
            )
            entry = self._entries.get(key) or fresh.get(key)
            if entry is None:
                result = analyse_function(doc, fn, ctx)
                self.stats.analysed += 1
            else:
                result = _moved(entry, fn.start_byte, line)
                self.stats.reused += 1
            fresh[key] = _Entry(result, fn.start_byte, line)
            results.append(result)
        self._entries = fresh
        return results


def _moved(entry: _Entry, start_byte: int, start_line: int) -> FunctionResult:
    byte_delta = start_byte - entry.start_byte
    line_delta = start_line - entry.start_line
    if not byte_delta and not line_delta:
        return entry.result
    result = entry.result
    findings: list[Finding] = [f.shifted(byte_delta, line_delta) for f in result.findings]
    moved = (result.moved_by[0] + byte_delta, result.moved_by[1] + line_delta)
    return replace(result, findings=findings, moved_by=moved, _moved=None)
