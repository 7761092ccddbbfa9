"""A document under edit: incremental reparse, function re-index, file context and
per-function cache kept together, so every front end that edits (the language server, the
benchmarks, the tests) runs the same per-keystroke path."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping

from kvmlock.analysis.cache import FunctionCache, Splice
from kvmlock.analysis.engine import (
    SUPPRESSION_MARK,
    FileContext,
    FunctionResult,
    collect_findings,
    file_context,
)
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.observations import CallEffect
from kvmlock.rules.model import RuleBase
from kvmlock.syntax.document import SourceDocument, parse_document
from kvmlock.syntax.functions import FunctionInfo
from kvmlock.syntax.incremental import Reparse, checked_hint, reindex, reparse

_NO_EFFECTS: Mapping[str, CallEffect] = {}


class LiveDocument:
    def __init__(self, path: str) -> None:
        self.path = path
        self.parsed: SourceDocument | None = None
        self.cache = FunctionCache()
        self.rules: RuleBase | None = None
        self.ctx: FileContext | None = None
        self.results: list[FunctionResult] = []
        self._findings: list[Finding] | None = []
        self._marks = 0  # suppression comments in the source (counted where edits land)
        # Updates that changed the text, and how the last one changed the results: (kept
        # before, kept after, lines added) when it spliced them, for consumers that keep
        # something per result (the interprocedural records).
        self.updates = 0
        self.last_splice: tuple[int, int, int] | None = None
        # The results `last_splice` was applied to, when the last update spliced them.
        self.spliced_from: list[FunctionResult] | None = None
        self.identity = object()  # tells this document's updates from another's

    def update(
        self,
        source: bytes,
        rules: RuleBase,
        enabled: frozenset[str],
        hint: tuple[int, int, int] | None = None,
        call_effects: Mapping[str, CallEffect] | None = None,
    ) -> None:
        """Analyse `source`, reusing everything an edit from the previous text left intact.
        `hint`: (start, old_end, new_end), a range outside of which the previous and the new
        source are the same, when the caller knows it (see syntax.incremental.reparse).
        The findings are listed only when asked for (`findings`): the language server
        renders them per function result instead (see lsp.diagnostics)."""
        inside_function = False
        splice: Splice | None = None
        if self.parsed is None:
            self.parsed = parse_document(self.path, source)
            self._marks = source.count(SUPPRESSION_MARK)
        elif self.parsed.source is not source and _differs(
            self.parsed.source, source, hint := checked_hint(hint, self.parsed.source, source)
        ):
            self.updates += 1
            self.last_splice = None
            self._marks = _marks_after(self._marks, self.parsed.source, source, hint)
            previous = self.parsed._functions
            change = reparse(self.parsed, source, hint)
            index = reindex(self.parsed, previous, change) if previous is not None else None
            if index is not None:
                self.parsed.set_functions(index.functions, recovered=False)
                inside_function = _within_function(change, index.functions)
                splice = Splice(kept_before=index.kept_before, kept_after=index.kept_after)
                self.last_splice = (index.kept_before, index.kept_after, change.line_delta)
        if rules is not self.rules:
            self.cache = FunctionCache()
            self.rules = rules
        ctx = self.ctx
        effects = call_effects if call_effects is not None else _NO_EFFECTS
        if (
            ctx is None
            or ctx.rules is not rules
            or ctx.enabled != enabled
            or ctx.call_effects is not effects
            or not inside_function
        ):
            # MMU notifier tables live outside functions: an edit inside one keeps them.
            ctx = file_context(self.parsed, rules, enabled, effects)
        self.ctx = ctx
        previous = self.results
        self.results = self.cache.results(self.parsed, ctx, splice)
        if self.cache.last_rebuilt:
            self.last_splice = None  # the cache did not splice after all
        spliced = splice is not None and self.last_splice is not None
        self.spliced_from = previous if spliced else None
        self._findings = None

    @property
    def marked(self) -> bool:
        """Whether the source holds a suppression comment."""
        return self._marks > 0

    def with_findings(self) -> list[FunctionResult]:
        """The results that have findings, in function order."""
        return self.cache.with_findings() if self.parsed is not None else []

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the text last analysed, suppressions applied, sorted."""
        if self._findings is None:
            assert self.parsed is not None
            self._findings = collect_findings(
                self.parsed.source, self.cache.with_findings(), marked=self.marked
            )
        return self._findings


def splice_note(live: LiveDocument) -> tuple[object, int, tuple[int, int, int] | None]:
    """Which update `live.results` are of (document, update number) and how that update
    changed them, for a consumer that keeps something per result: (results kept before,
    kept after, lines added), or None when they were rebuilt."""
    return (live.identity, live.updates, live.last_splice)


def _differs(old: bytes, new: bytes, hint: tuple[int, int, int] | None) -> bool:
    """Whether the texts differ; with a hint, by comparing its range only (the caller
    vouches for the rest): a whole-file comparison reads both texts per keystroke."""
    if hint is None:
        return old != new
    start, old_end, new_end = hint
    return old[start:old_end] != new[start:new_end]


def _marks_after(
    marks: int, old: bytes, new: bytes, hint: tuple[int, int, int] | None
) -> int:
    """The suppression-comment count after an edit: recounted around the edit only."""
    if hint is None:
        return new.count(SUPPRESSION_MARK)
    start, old_end, new_end = hint
    margin = len(SUPPRESSION_MARK) - 1  # a mark may straddle the edit's edges
    low = max(start - margin, 0)
    removed = old.count(SUPPRESSION_MARK, low, old_end + margin)
    added = new.count(SUPPRESSION_MARK, low, new_end + margin)
    return marks - removed + added


def _within_function(change: Reparse, functions: list[FunctionInfo]) -> bool:
    touched = change.touched()
    low = min(start for start, _ in touched)
    high = max(end for _, end in touched)
    index = bisect_right(functions, low, key=lambda f: f.start_byte) - 1
    return index >= 0 and high <= functions[index].end_byte
