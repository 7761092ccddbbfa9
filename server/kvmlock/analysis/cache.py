"""Per-function results reused across edits.

A function's findings depend on its own bytes, where it starts (line and column: messages
name lines) and the file-wide context (rules, enabled checks, arch, whether it is an MMU
notifier callback). The cache is keyed by the bytes, the start column and that context, and
remembers where the function was when analysed; a hit elsewhere is placed there. So an edit
re-analyses only the functions whose bytes it changed, and typing a newline above a function
moves its findings instead of recomputing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvmlock.analysis.engine import FileContext, FunctionResult, analyse_function
from kvmlock.analysis.findings import Finding
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.incremental import current_node


@dataclass
class _Entry:
    result: FunctionResult  # placed where the function is now
    findings: list[Finding]  # as analysed
    start_byte: int  # where it was analysed
    start_line: int
    key: tuple

    def place(self, start_byte: int, start_line: int) -> FunctionResult:
        moved = (start_byte - self.start_byte, start_line - self.start_line)
        result = self.result
        if moved != result.moved_by:
            # In place: only this cache and the document's current results refer to it, and
            # rebuilding hundreds of results per keystroke is what this avoids.
            result.moved_by = moved
            result._moved = None
            result.findings = [f.shifted(*moved) for f in self.findings] if self.findings else []
        return result


@dataclass
class CacheStats:
    analysed: int = 0
    reused: int = 0


class FunctionCache:
    def __init__(self) -> None:
        self._entries: dict[tuple, _Entry] = {}
        # Index entries carried over by an incremental re-index kept their bytes: their
        # cache entry is found by identity, without hashing the function's text again.
        self._by_entry: dict[int, tuple[object, _Entry]] = {}
        self._context: tuple | None = None
        self.stats = CacheStats()

    def results(self, doc: SourceDocument, ctx: FileContext) -> list[FunctionResult]:
        """Results for every function of `doc`, analysing only those not seen before."""
        fresh: dict[tuple, _Entry] = {}
        by_entry: dict[int, tuple[object, _Entry]] = {}
        results = []
        context = (id(ctx.rules), ctx.enabled, ctx.arch, ctx.notifier_callbacks)
        carried_ok = context == self._context
        self._context = context
        callbacks = ctx.notifier_callbacks
        line_col = doc.line_col
        source = doc.source
        text = doc.text
        for fn in doc.functions:
            line, column = line_col(fn.start_byte)
            if carried_ok and fn.carried:
                known = self._by_entry.get(id(fn))
                if known is not None and known[0] is fn:
                    entry = known[1]
                    self.stats.reused += 1
                    by_entry[id(fn)] = (fn, entry)
                    fresh[entry.key] = entry
                    results.append(entry.place(fn.start_byte, line))
                    continue
            # The rewritten bytes too: text outside a function (an unterminated comment) can
            # change how its own bytes are rewritten, and the analysis reads the rewrite.
            span = slice(fn.start_byte, fn.end_byte)
            key = (source[span], text[span], column, context[:3], fn.name in callbacks)
            entry = self._entries.get(key) or fresh.get(key)
            if entry is None or key in fresh:
                result = analyse_function(doc, current_node(doc, fn), ctx)
                self.stats.analysed += 1
                entry = _Entry(result, list(result.findings), fn.start_byte, line, key)
            else:
                self.stats.reused += 1
            fresh[key] = entry
            by_entry[id(fn)] = (fn, entry)
            results.append(entry.place(fn.start_byte, line))
        self._entries = fresh
        self._by_entry = by_entry
        return results
