"""The interprocedural pass over a set of files: the entry point for the command line and,
later, the language server.

    workspace = Workspace(rules_for)
    workspace.set_file(file_record(doc, analyse_functions(doc, rules)))   # per file, any order
    findings = workspace.findings()                                       # all files' findings

Findings come back unsuppressed and unsorted; callers apply `// kvmlock: ignore[...]` with the
file's text (engine.unsuppressed), as for the per-function findings.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from kvmlock.analysis.checks import registry
from kvmlock.analysis.engine import analyse_functions, unsuppressed
from kvmlock.analysis.findings import Finding
from kvmlock.interproc.call_checks import CallChecks
from kvmlock.interproc.cycles import cycle_findings
from kvmlock.interproc.records import FileRecord, file_record
from kvmlock.interproc.summaries import Summary, SummaryIndex
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
        self._index: SummaryIndex | None = None

    def set_file(self, record: FileRecord) -> None:
        """Add or replace a file (an unsaved buffer's record replaces the one from disk)."""
        self._files[record.path] = record
        self._index = None

    def remove_file(self, path: str) -> None:
        self._files.pop(path, None)
        self._index = None

    @property
    def index(self) -> SummaryIndex:
        if self._index is None:
            with cyclic_gc_paused():
                self._index = SummaryIndex(self._files[p] for p in sorted(self._files))
        return self._index

    def summary(self, path: str, name: str) -> Summary | None:
        """The summary of function `name` as seen from `path` (for hovers)."""
        keys = self.index.resolver.by_name(path, name)
        return self.index.summaries[keys[0]] if keys else None

    def findings(self, paths: Iterable[str] | None = None) -> list[Finding]:
        """Findings through calls in `paths` (all files when None), and every order cycle
        whose reported edge lies in them."""
        wanted = set(paths) if paths is not None else None
        with cyclic_gc_paused():
            checks = CallChecks(self.index, self.rules_for, self.enabled)
            found = checks.findings(wanted)
            cycles = cycle_findings(self.index, self.rules_for, self.enabled)
        found += [f for f in cycles if wanted is None or f.path in wanted]
        return found


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
    results = analyse_functions(doc, rules, enabled)
    workspace = Workspace(lambda _path: rules, enabled)
    workspace.set_file(file_record(doc, results))
    findings = [f for r in results for f in r.findings] + workspace.findings()
    return sorted(unsuppressed(doc.source, findings), key=Finding.sort_key)
