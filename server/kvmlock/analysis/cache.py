"""Per-function results reused across edits.

A function's findings depend on its own bytes, where it starts (line and column: messages
name lines) and the file-wide context (rules, enabled checks, arch, whether it is an MMU
notifier callback). The cache is keyed by the bytes, the start column and that context, and
remembers where the function was when analysed; a hit elsewhere is placed there. So an edit
re-analyses only the functions whose bytes it changed, and typing a newline above a function
moves its findings instead of recomputing them.

When the caller knows how an edit changed the function list (a `Splice` from the incremental
re-index), only the functions in the edited stretch are looked up; the others keep their
results, which follow their functions without being touched (see FunctionResult), and the
results with findings are tracked apart, so a keystroke costs about the same in a 50k-line
file as in a small one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kvmlock.analysis.engine import FileContext, FunctionResult, analyse_function
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.functions import FunctionInfo
from kvmlock.syntax.incremental import current_node


@dataclass(frozen=True)
class Splice:
    """An edit's effect on the function list: the first `kept_before` and the last
    `kept_after` functions are those of the previous results (unchanged bytes; the latter
    moved by the edit)."""

    kept_before: int
    kept_after: int


@dataclass
class CacheStats:
    analysed: int = 0
    reused: int = 0


class FunctionCache:
    def __init__(self) -> None:
        self._entries: dict[tuple, FunctionResult] = {}
        # The call effects each function text can meet, for one FileContext.call_effects.
        self._effects_source: object = None
        self._met: dict[bytes, tuple] = {}
        self._results: list[FunctionResult] = []  # the last results, in function order
        self._with_findings: dict[int, FunctionResult] = {}  # those of them with findings
        self._context: tuple | None = None
        self.last_rebuilt = True
        self.stats = CacheStats()

    def results(
        self, doc: SourceDocument, ctx: FileContext, splice: Splice | None = None
    ) -> list[FunctionResult]:
        """Results for every function of `doc`, analysing only those not seen before."""
        context = (
            id(ctx.rules), ctx.enabled, ctx.arch, ctx.notifier_callbacks, id(ctx.call_effects)
        )
        functions = doc.functions
        usable = (
            splice is not None
            and context == self._context
            and splice.kept_before + splice.kept_after <= min(len(functions), len(self._results))
            and len(self._entries) < 2 * len(functions) + 64  # else rebuild: drops old keys
        )
        self._context = context
        self.last_rebuilt = not usable  # the results were looked up afresh, not spliced
        if usable:
            assert splice is not None
            return self._spliced(doc, ctx, splice)
        known, self._entries = self._entries, {}  # keep only what this text still uses
        for result in self._results:
            result.slot = None
        self._results = self._lookup(doc, ctx, functions, known=known)
        self._with_findings = {id(r): r for r in self._results if r.raw_findings}
        return self._results

    def with_findings(self) -> list[FunctionResult]:
        """The last results that have findings, in function order."""
        return sorted(self._with_findings.values(), key=_position)

    def _spliced(
        self, doc: SourceDocument, ctx: FileContext, splice: Splice
    ) -> list[FunctionResult]:
        functions = doc.functions
        before, after = splice.kept_before, splice.kept_after
        old_middle = self._results[before : len(self._results) - after]
        for result in old_middle:
            result.slot = None  # its function is gone (unless looked up again just below)
            self._with_findings.pop(id(result), None)
        middle = self._lookup(
            doc, ctx, functions[before : len(functions) - after], kept_alive=True
        )
        for result in middle:
            if result.raw_findings:
                self._with_findings[id(result)] = result
        self.stats.reused += before + after
        self._results = [
            *self._results[:before],
            *middle,
            *self._results[len(self._results) - after :],
        ]
        return self._results

    def _effects_met(self, ctx: FileContext, functions: int) -> Callable[[bytes], tuple]:
        """FileContext.effects_for, remembered per function text for the same effects: a
        structural edit looks every function up again, and scanning each one's text for
        callee names again would be work per keystroke over the whole file."""
        if not ctx.call_effects:
            return _no_effects
        if ctx.call_effects is not self._effects_source or len(self._met) > 2 * functions + 64:
            self._effects_source, self._met = ctx.call_effects, {}
        memo, scan = self._met, ctx.effects_for

        def met(body: bytes) -> tuple:
            found = memo.get(body)
            if found is None:
                found = memo[body] = scan(body)
            return found

        return met

    def _lookup(
        self,
        doc: SourceDocument,
        ctx: FileContext,
        functions: list[FunctionInfo],
        kept_alive: bool = False,
        known: dict[tuple, FunctionResult] | None = None,
    ) -> list[FunctionResult]:
        """Find or compute the results of `functions`. With `kept_alive`, functions outside
        this list keep their results: a result placed for one of them (a carried function,
        an identical twin of one being looked up) is not shared."""
        context = (id(ctx.rules), ctx.enabled, ctx.arch)
        callbacks = ctx.notifier_callbacks
        source, text = doc.source, doc.text
        met = self._effects_met(ctx, len(functions))
        results: list[FunctionResult] = []
        taken: set[int] = set()
        for fn in functions:
            line, column = doc.line_col(fn.start_byte)
            # The rewritten bytes too: text outside a function (an unterminated comment) can
            # change how its own bytes are rewritten, and the analysis reads the rewrite.
            span = slice(fn.start_byte, fn.end_byte)
            body = source[span]
            key = (body, text[span], column, context, fn.name in callbacks, met(body))
            result = self._entries.get(key) if known is None else known.get(key)
            shared = result is not None and (
                id(result) in taken
                or (
                    kept_alive
                    and result.slot is not None
                    and result.slot is not fn
                    and not doc.is_current(result.slot)
                )
            )
            if result is None or shared:  # e.g. two identical functions in one file
                result = analyse_function(doc, current_node(doc, fn), ctx)
                result.origin = (fn.start_byte, line)
                self.stats.analysed += 1
            else:
                self.stats.reused += 1
            self._entries[key] = result
            taken.add(id(result))
            result.slot = fn
            results.append(result)
        return results


def _no_effects(body: bytes) -> tuple:
    return ()


def _position(result: FunctionResult) -> int:
    return result.slot.start_byte if result.slot is not None else -1
