"""The interprocedural pass over a set of files: the entry point for the command line and
the language server.

    workspace = Workspace(rules_for)
    workspace.set_file(file_record(doc, analyse_functions(doc, rules)))   # per file, any order
    findings = workspace.findings()                                       # all files' findings
    paths = workspace.set_file(edited_record)     # incremental: the paths whose findings moved

Once built, the index is updated in place: a replaced file recomputes the summaries of its
changed functions and of callers whose callees' summaries changed; findings at calls are kept
per function and recomputed for those functions and their direct callers; order cycles are
re-derived when a recomputed function's lock nestings change.

Findings come back unsuppressed and unsorted; callers apply `// kvmlock: ignore[...]` with the
file's text (engine.unsuppressed), as for the per-function findings.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, compress, count, repeat
from operator import is_

from kvmlock.analysis.checks import registry
from kvmlock.analysis.engine import analyse_functions, unsuppressed
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.observations import CallEffect
from kvmlock.interproc.call_checks import CallChecks, PreparedFinding
from kvmlock.interproc.cycles import Edge, cycle_rings, function_edges, report_ring
from kvmlock.interproc.records import FileRecord, FunctionKey, file_record
from kvmlock.interproc.settle import MAX_EFFECT_ROUNDS
from kvmlock.interproc.summaries import Summary, SummaryIndex, Update
from kvmlock.rules.model import RuleBase
from kvmlock.syntax.document import SourceDocument


class Workspace:
    def __init__(
        self,
        rules_for: Callable[[str], RuleBase],
        enabled: frozenset[str] | None = None,
    ) -> None:
        self.rules_for = rules_for
        self.enabled = enabled if enabled is not None else frozenset(registry())
        self._files: dict[str, FileRecord] = {}
        self._callees: dict[str, tuple[FileRecord, set[str]]] = {}  # names a file calls
        self._index: SummaryIndex | None = None
        self.last_update: Update | None = None  # None after a (re)build
        self._forget_findings()

    def _forget_findings(self) -> None:
        self._checks: CallChecks | None = None
        # Findings are kept unworded (see CallChecks.function_findings), per function and file.
        self._call_findings: dict[FunctionKey, list[PreparedFinding]] = {}
        self._path_findings: dict[str, list[PreparedFinding]] = {}
        # Per function with any: its lock nestings; None until the cycles are first asked for.
        self._edges: dict[FunctionKey, list[Edge]] | None = None
        # The lock graph, kept up to date per function: each nesting's witnesses, and its
        # edge from the first of them (in key order, as a fresh build picks it).
        self._witnesses: dict[tuple[str, str], set[FunctionKey]] = {}
        self._graph: dict[tuple[str, str], Edge] = {}
        self._cycles: list[list[Edge]] | None = None

    def configure(
        self, rules_for: Callable[[str], RuleBase], enabled: frozenset[str] | None
    ) -> None:
        """New rules or checks: summaries stand (they do not read rules), findings do not."""
        self.rules_for = rules_for
        self.enabled = enabled if enabled is not None else frozenset(registry())
        self._forget_findings()

    @property
    def paths(self) -> list[str]:
        return list(self._files)

    def record(self, path: str) -> FileRecord | None:
        return self._files.get(path)

    def set_file(self, record: FileRecord) -> set[str] | None:
        """Add or replace a file (an unsaved buffer's record replaces the one from disk).

        Once the index is built, a replaced file updates it incrementally (`last_update`
        says how many summaries that took). Returns the paths whose findings through calls
        may have changed, or None when any may have (no index yet, or a rebuild)."""
        self._files[record.path] = record
        if self._index is None:
            return None
        with cyclic_gc_paused():
            update = self._index.replace_file(record)
        return self._updated(update)

    def _updated(self, update: Update | None) -> set[str] | None:
        self.last_update = update
        if update is None or update.tables_changed:
            # A new file, or tables changed: MMU notifier callbacks and table calls anywhere
            # may differ. Summaries stay (updated); findings are redone.
            if update is None:
                self._index = None
            self._forget_findings()
            return None
        index = self._index
        # A function that only moved has the same findings and lock nestings, at other lines:
        # most have none, and none stays none.
        quiet = {
            key
            for key in update.moved - update.summaries
            if not self._call_findings.get(key) and (self._edges is None or key not in self._edges)
        }
        affected = (update.functions - quiet) | update.summaries | update.removed
        for key in update.summaries:
            affected |= index.callers.get(key, set())
        for key in affected:
            self._call_findings.pop(key, None)
        paths = {key[0] for key in affected}
        for path in paths:
            self._path_findings.pop(path, None)
        if self._edges is not None and self._edges_changed(affected):
            before = {_ring_id(ring): ring for ring in self._cycles or []}
            self._cycles = None
            self._cycle_findings()
            after = {_ring_id(ring): ring for ring in self._cycles or []}
            for ring_id in before.keys() ^ after.keys():
                paths.add(ring_id[0][2][0])  # the path of the reported edge
        if update.moved:
            paths |= self._chains_through({(key[0], key[1]) for key in update.moved})
        return paths

    def _chains_through(self, moved: set[tuple[str, str]]) -> set[str]:
        """Files whose findings name a line in a function that moved: their text changes
        though nothing was recomputed (findings are few; this reads only theirs)."""
        found = set()
        for path, prepared in self._path_findings.items():
            for render in prepared:
                if any((step.path, step.function) in moved for step in render.chain):
                    found.add(path)
                    break
        for ring in self._cycles or []:
            if any((s.path, s.function) in moved for edge in ring for s in edge.chain):
                found.add(_ring_id(ring)[0][2][0])
        return found

    def remove_file(self, path: str) -> set[str] | None:
        """Drop a file (a closed buffer with no file behind it); like set_file's answer."""
        if self._files.pop(path, None) is None or self._index is None:
            return None
        with cyclic_gc_paused():
            update = self._index.remove_file(path)
        return self._updated(update)

    @property
    def index(self) -> SummaryIndex:
        if self._index is None:
            with cyclic_gc_paused():
                self._index = SummaryIndex(self._files[p] for p in sorted(self._files))
            self._forget_findings()
        return self._index

    def call_effects(self, path: str, every: bool = False) -> dict[str, CallEffect]:
        """What the calls of file `path` do to their callers' locks: the walker applies these
        when it analyses the file (see FileContext.call_effects). `every`: for any name, not
        only those the file's record calls (a buffer being typed calls new names; listing
        its calls per keystroke would cost more than the few names with an effect)."""
        if every:
            return self.index.call_effects(path)
        if path not in self._files:
            return {}
        return self.index.call_effects(path, self.called_names(path))

    def called_names(self, path: str) -> set[str]:
        """The callee names of file `path`'s calls, as written."""
        record = self._files.get(path)
        if record is None:
            return set()
        known = self._callees.get(path)
        if known is None or known[0] is not record:
            names = {call.callee for fn in record.functions for call in fn.observations.calls}
            known = self._callees[path] = (record, names)
        return known[1]

    def summary(self, path: str, name: str) -> Summary | None:
        """The summary of function `name` as seen from `path` (for hovers)."""
        keys = self.index.resolver.by_name(path, name)
        return self.index.summaries[keys[0]] if keys else None

    def findings(self, paths: Iterable[str] | None = None) -> list[Finding]:
        """Findings through calls in `paths` (all files when None), and every order cycle
        whose reported edge lies in them."""
        index = self.index
        wanted = set(paths) if paths is not None else None
        found: list[Finding] = []
        with cyclic_gc_paused():
            for path in sorted(wanted) if wanted is not None else index.by_path:
                found.extend(self._findings_in(path))
            cycles = self._cycle_findings()
        found += [f for f in cycles if wanted is None or f.path in wanted]
        return found

    def _findings_in(self, path: str) -> list[Finding]:
        found = self._path_findings.get(path)
        if found is None:
            # Listed again after every edit of the file: only the functions the edit
            # affected are asked for theirs; the others' (mostly none) are looked up without
            # a Python-level step per function.
            keys = self.index.by_path.get(path, [])
            lists = list(map(self._call_findings.get, keys))
            for i in compress(count(), map(is_, lists, repeat(None))):
                lists[i] = self._function_findings(keys[i])
            found = list(chain.from_iterable(lists))
            self._path_findings[path] = found
        return [render() for render in found]

    def _function_findings(self, key: FunctionKey) -> list[PreparedFinding]:
        found = self._call_findings.get(key)
        if found is None:
            if self._checks is None:
                self._checks = CallChecks(self.index, self.rules_for, self.enabled)
            found = self._call_findings[key] = self._checks.function_findings(key)
        return found

    def _cycle_findings(self) -> list[Finding]:
        if "order-cycle" not in self.enabled:
            return []
        if self._cycles is None:
            index = self.index
            if self._edges is None:
                self._edges = {}
                self._edges_changed(set(index.functions))
            self._cycles = cycle_rings(self._graph, self.rules_for)
        return [report_ring(ring) for ring in self._cycles]

    def _edges_changed(self, keys: set[FunctionKey]) -> bool:
        """Recompute the nestings of `keys`; whether any function's changed."""
        assert self._edges is not None
        pairs: set[tuple[str, str]] = set()
        for key in keys:
            edges = (
                function_edges(self.index, key, self.rules_for)
                if key in self.index.functions
                else []  # removed
            )
            old = self._edges.get(key, [])
            if edges == old:
                continue
            for edge in old:
                pair = (edge.outer, edge.inner)
                self._witnesses[pair].discard(key)
                pairs.add(pair)
            for edge in edges:
                pair = (edge.outer, edge.inner)
                self._witnesses.setdefault(pair, set()).add(key)
                pairs.add(pair)
            if edges:
                self._edges[key] = edges
            else:
                self._edges.pop(key, None)
        changed = False
        for pair in pairs:
            witnesses = self._witnesses.get(pair)
            before = self._graph.get(pair)
            if not witnesses:
                self._witnesses.pop(pair, None)
                self._graph.pop(pair, None)
                changed = True
                continue
            first = min(witnesses)
            edge = next(e for e in self._edges[first] if (e.outer, e.inner) == pair)
            if edge is not before:
                self._graph[pair] = edge
                changed = True
        return changed


def _ring_id(ring: list[Edge]) -> tuple:
    """A reported cycle, as what its finding says: each edge's classes and place. The
    reported edge, first in key order, comes first."""
    edges = sorted(
        ((e.fn.path, e.site.line, e.site.column), e.outer, e.inner, e.fn.key) for e in ring
    )
    return tuple((outer, inner, key, place) for place, outer, inner, key in edges)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Records and summaries are hundreds of thousands of small acyclic objects; the cyclic
    collector would rescan that whole heap again and again for nothing (40% of the index
    time on a 150k-line tree, and 85% of unpickling the records the workers send back).
    Reference counting frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()




def analyse_with_calls(
    doc: SourceDocument, rules: RuleBase, enabled: frozenset[str] | None = None
) -> list[Finding]:
    """One document on its own, per-function and interprocedural findings together."""
    effects: dict[str, CallEffect] = {}
    for _ in range(MAX_EFFECT_ROUNDS):
        results = analyse_functions(doc, rules, enabled, effects)
        workspace = Workspace(lambda _path: rules, enabled)
        workspace.set_file(file_record(doc, results))
        settled = workspace.call_effects(doc.path)
        if settled == effects:
            break
        effects = settled
    findings = [f for r in results for f in r.findings] + workspace.findings()
    return sorted(unsuppressed(doc.source, findings), key=Finding.sort_key)
