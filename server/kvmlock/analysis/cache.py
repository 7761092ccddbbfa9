"""Per-function results reused across edits.

A function's findings depend on its own bytes, where it starts (line and column: messages
name lines) and the file-wide context (rules, enabled checks, arch, whether it is an MMU
notifier callback). The cache is keyed by the bytes, the start column and that context, and
remembers where the function was when analysed; a hit elsewhere is placed there. So an edit
re-analyses only the functions whose bytes it changed, and typing a newline above a function
moves its findings instead of recomputing them.

When the caller knows how an edit changed the function list (a `Splice` from the incremental
re-index), only the functions in the edited stretch are looked up; the others keep their
results and are only moved, so a keystroke costs little more in a 15k-line file than in a
small one.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvmlock.analysis.engine import FileContext, FunctionResult, analyse_function
from kvmlock.analysis.findings import Finding
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.functions import FunctionInfo
from kvmlock.syntax.incremental import current_node


@dataclass
class _Entry:
    result: FunctionResult  # placed where the function is now
    findings: list[Finding]  # as analysed
    start_byte: int  # where it was analysed
    start_line: int
    slot: FunctionInfo | None = None  # the function it was last placed for

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


@dataclass(frozen=True)
class Splice:
    """An edit's effect on the function list: the first `kept_before` and the last
    `kept_after` functions are those of the previous results (unchanged bytes; the latter
    moved by the edit's byte delta and by `line_delta` lines)."""

    kept_before: int
    kept_after: int
    line_delta: int


@dataclass
class CacheStats:
    analysed: int = 0
    reused: int = 0


class FunctionCache:
    def __init__(self) -> None:
        self._entries: dict[tuple, _Entry] = {}
        # Parallel to the last results: each function's entry and its current first line.
        self._placed: list[tuple[_Entry, int]] = []
        self._results: list[FunctionResult] = []
        self._context: tuple | None = None
        self.stats = CacheStats()

    def results(
        self, doc: SourceDocument, ctx: FileContext, splice: Splice | None = None
    ) -> list[FunctionResult]:
        """Results for every function of `doc`, analysing only those not seen before."""
        context = (id(ctx.rules), ctx.enabled, ctx.arch, ctx.notifier_callbacks)
        functions = doc.functions
        usable = (
            splice is not None
            and context == self._context
            and splice.kept_before + splice.kept_after <= min(len(functions), len(self._placed))
            and len(self._entries) < 2 * len(functions) + 64  # else rebuild: drops old keys
        )
        self._context = context
        if usable:
            assert splice is not None
            return self._spliced(doc, ctx, splice)
        known, self._entries = self._entries, {}  # keep only what this text still uses
        placed, results = self._lookup(doc, ctx, functions, known=known)
        self._placed, self._results = placed, results
        return results

    def _spliced(
        self, doc: SourceDocument, ctx: FileContext, splice: Splice
    ) -> list[FunctionResult]:
        functions = doc.functions
        before, after = splice.kept_before, splice.kept_after
        middle_placed, middle = self._lookup(
            doc, ctx, functions[before : len(functions) - after], kept_alive=True
        )
        middle_entries = {id(entry) for entry, _ in middle_placed}
        for entry, _ in self._placed[before : len(self._placed) - after]:
            if id(entry) not in middle_entries:
                # Its function is gone: do not keep that function's tree alive through it.
                entry.slot = None
        tail_placed = self._placed[len(self._placed) - after :]
        moved: list[tuple[_Entry, int]] = []
        for fn, (entry, line) in zip(functions[len(functions) - after :], tail_placed, strict=True):
            line += splice.line_delta
            entry.place(fn.start_byte, line)
            moved.append((entry, line))
        self.stats.reused += before + after
        self._placed = [*self._placed[:before], *middle_placed, *moved]
        self._results = [
            *self._results[:before],
            *middle,
            *self._results[len(self._results) - after :],
        ]
        return self._results

    def _lookup(
        self,
        doc: SourceDocument,
        ctx: FileContext,
        functions: list[FunctionInfo],
        kept_alive: bool = False,
        known: dict[tuple, _Entry] | None = None,
    ) -> tuple[list[tuple[_Entry, int]], list[FunctionResult]]:
        """Find or compute the results of `functions`. With `kept_alive`, functions outside
        this list keep their entries: an entry placed for one of them (a carried function, an
        identical twin of one being looked up) is not shared."""
        context = (id(ctx.rules), ctx.enabled, ctx.arch)
        callbacks = ctx.notifier_callbacks
        source, text = doc.source, doc.text
        placed: list[tuple[_Entry, int]] = []
        results: list[FunctionResult] = []
        taken: set[int] = set()
        for fn in functions:
            line, column = doc.line_col(fn.start_byte)
            # The rewritten bytes too: text outside a function (an unterminated comment) can
            # change how its own bytes are rewritten, and the analysis reads the rewrite.
            span = slice(fn.start_byte, fn.end_byte)
            key = (source[span], text[span], column, context, fn.name in callbacks)
            entry = self._entries.get(key) if known is None else known.get(key)
            shared = entry is not None and (
                id(entry) in taken
                or (
                    kept_alive
                    and entry.slot is not None
                    and entry.slot is not fn
                    and entry.slot.carried
                )
            )
            if entry is None or shared:  # e.g. two identical functions in one file
                result = analyse_function(doc, current_node(doc, fn), ctx)
                self.stats.analysed += 1
                entry = _Entry(result, list(result.findings), fn.start_byte, line)
                self._entries[key] = entry
            else:
                self.stats.reused += 1
                self._entries[key] = entry
            taken.add(id(entry))
            entry.slot = fn
            placed.append((entry, line))
            results.append(entry.place(fn.start_byte, line))
        return placed, results
