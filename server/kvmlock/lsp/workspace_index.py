"""The interprocedural index in the language server: every C file and header of the
workspace, with each open document's unsaved buffer in place of its file on disk.

Indexing runs in the background after `initialized`: files are parsed and analysed in worker
processes (in this process, one file between two messages, for a handful of files), the
records arrive here, and the summaries are computed in a thread, so the editor's requests
keep being answered. Afterwards an edit replaces its document's record and the workspace
recomputes only what depends on it (`Workspace.set_file`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kvmlock.analysis.engine import unsuppressed
from kvmlock.analysis.findings import Finding, Span
from kvmlock.analysis.live import splice_note
from kvmlock.analysis.observations import CallEffect
from kvmlock.cli import SOURCE_SUFFIXES, FileResult, check_file
from kvmlock.interproc.records import FileRecord, RecordBuilder
from kvmlock.interproc.summaries import Summary
from kvmlock.interproc.workspace import Workspace, cyclic_gc_paused
from kvmlock.lsp.documents import OpenDocument
from kvmlock.rules.model import RuleBase

log = logging.getLogger("kvmlock.lsp.index")

IN_PROCESS_FILES = 16  # below this, worker start-up costs more than the work


def kernel_roots(folder: Path) -> list[Path]:
    """What to index under a workspace folder. A whole kernel tree holds some 60k C files
    and KVM calls into few of them: in one, index KVM's own directories and headers;
    anywhere else, the folder."""
    if not (folder / "virt" / "kvm").is_dir():
        return [folder]
    roots = [folder / "virt" / "kvm", folder / "include" / "kvm"]
    roots += sorted((folder / "arch").glob("*/kvm"))
    roots += sorted((folder / "include" / "linux").glob("kvm*.h"))
    roots += sorted((folder / "arch").glob("*/include/asm/kvm*.h"))
    return [root for root in roots if root.exists()]


def source_files(roots: list[Path]) -> Iterator[str]:
    """C files and headers under `roots`, hidden directories skipped, each directory once."""
    seen: set[tuple[int, int]] = set()
    for root in roots:
        if root.is_file():
            yield str(root)
            continue
        for directory, subdirs, names in os.walk(root, followlinks=True):
            info = os.stat(directory)
            if (info.st_dev, info.st_ino) in seen:
                subdirs[:] = []
                continue
            seen.add((info.st_dev, info.st_ino))
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES) and not name.startswith("."):
                    yield os.path.join(directory, name)


def covered(path: str, roots: list[Path]) -> bool:
    """Whether `source_files(roots)` would list `path` (a C file or header under a root,
    outside hidden directories)."""
    if not path.endswith(SOURCE_SUFFIXES):
        return False
    target = Path(path)
    for root in roots:
        if target == root:
            return True
        try:
            parts = target.relative_to(root).parts
        except ValueError:
            continue
        if not any(part.startswith(".") for part in parts):
            return True
    return False


def bounded(files: Iterator[str], limit: int) -> tuple[list[str], bool]:
    """At most `limit` files, and whether there were more (the walk stops there)."""
    found: list[str] = []
    for path in files:
        if len(found) == limit:
            return found, True
        found.append(path)
    return found, False


@dataclass
class IndexStats:
    files: int = 0
    functions: int = 0
    seconds: float = 0.0
    truncated: bool = False
    last_recomputed: int = 0  # summaries the last edit recomputed
    last_update_ms: float = 0.0
    disk_updates: int = 0  # files re-read or dropped after a change on disk


class ServerIndex:
    def __init__(self, rules_for: Callable[[str], RuleBase], enabled: frozenset[str]) -> None:
        self._rules_for = rules_for
        self._rules_by_dir: dict[str, RuleBase] = {}
        self.enabled = enabled
        self.workspace: Workspace | None = None  # None until the first indexing ends
        self.indexing = False
        self.buffers: dict[str, FileRecord] = {}  # open documents: these replace the disk
        self._builders: dict[str, RecordBuilder] = {}
        # The text and call effects each buffer's record was built from.
        self._recorded: dict[str, tuple[bytes, object]] = {}
        # The call effects each file's analysis applied (see Workspace.call_effects), the same
        # object while they do not change: a document's per-function cache keys on it.
        self.applied: dict[str, dict[str, CallEffect]] = {}
        self._read_with: dict[str, dict[str, CallEffect]] = {}  # FileResult.applied, to take
        self.indexed: set[str] = set()
        self.stats = IndexStats()
        self._changed_while_indexing: set[str] = set()
        self._disk_lock = asyncio.Lock()

    def describe_state(self) -> dict:
        """For kvmlock.serverStats."""
        state = "indexing" if self.indexing else "ready" if self.workspace is not None else "idle"
        return {
            "state": state,
            "files": self.stats.files,
            "functions": self.stats.functions,
            "seconds": round(self.stats.seconds, 3),
            "lastRecomputed": self.stats.last_recomputed,
            "lastUpdateMs": round(self.stats.last_update_ms, 3),
            "diskUpdates": self.stats.disk_updates,
        }

    def rules_for(self, path: str) -> RuleBase:
        # Discovery walks up from the file; the workspace asks once per function.
        directory = os.path.dirname(path)
        rules = self._rules_by_dir.get(directory)
        if rules is None:
            rules = self._rules_by_dir[directory] = self._rules_for(path)
        return rules

    def configure(self, enabled: frozenset[str]) -> None:
        """Rules or checks changed: findings are recomputed, summaries kept."""
        self._rules_by_dir.clear()
        self.enabled = enabled
        if self.workspace is not None:
            self.workspace.configure(self.rules_for, enabled)

    def call_effects(
        self, path: str, workspace: Workspace | None = None
    ) -> dict[str, CallEffect]:
        """What the calls of `path` do to their callers' locks, as the last analysis of it
        applied them when that is still so (the same object), else anew. For an open
        buffer, by any name; for a file on disk, by the names it calls."""
        known = self.applied.get(path, _NO_EFFECTS)
        workspace = workspace or self.workspace
        if workspace is None:
            return known
        found = workspace.call_effects(path, every=path in self.buffers)
        if found == known:
            return known
        self.applied[path] = found
        return found

    def _took_applied(self, workspace: Workspace, path: str) -> None:
        """A file just read from disk was analysed with the effects of its own functions
        (analyse_settled), as far as it calls them."""
        called = workspace.called_names(path)
        read_with = self._read_with.pop(path, {})
        self.applied[path] = {n: e for n, e in read_with.items() if n in called}

    def settle_disk(
        self, paths: set[str] | None, workspace: Workspace | None = None
    ) -> set[str] | None:
        """Files on disk among `paths` (None: all) whose calls' effects changed are analysed
        again with them, the functions calling a changed one only, until nothing changes.
        Returns the paths whose findings through calls may have changed meanwhile."""
        from kvmlock.interproc.records import merged
        from kvmlock.interproc.settle import MAX_EFFECT_ROUNDS, changed_effects

        workspace = workspace or self.workspace
        affected: set[str] | None = set()
        if workspace is None:
            return affected
        for _ in range(MAX_EFFECT_ROUNDS):
            candidates = self.indexed - self.buffers.keys()
            if paths is not None:
                candidates &= paths
            paths = set()
            for path in sorted(candidates):
                before = self.applied.get(path, _NO_EFFECTS)
                effects = self.call_effects(path, workspace)
                if effects is before:
                    continue
                names = changed_effects(before, effects)
                result = check_file((path, None, self.enabled, True, effects, names, None))
                old = workspace.record(path)
                if result.record is None or old is None:
                    continue
                changed = workspace.set_file(merged(old, result.record.functions))
                if changed is None:
                    affected = paths = None
                    break
                paths |= changed
                if affected is not None:
                    affected |= changed
            if not paths:
                break
        return affected

    # --- open documents -------------------------------------------------------------------

    def buffer_changed(self, doc: OpenDocument, same_tables: bool) -> set[str] | None:
        """The document was analysed: put its record in the index. Returns the paths whose
        findings through calls may have changed (None: any)."""
        if doc.parsed is None:
            return set()
        analysed = (doc.parsed.source, doc.live.ctx.call_effects if doc.live.ctx else None)
        recorded = self._recorded.get(doc.path)
        if (
            recorded is not None
            and recorded[0] is analysed[0]
            and recorded[1] is analysed[1]
            and doc.path in self.buffers
        ):
            return set()  # re-checked for another document's sake: nothing it did changed
        started = time.perf_counter()
        builder = self._builders.get(doc.path)
        if builder is None:
            builder = self._builders[doc.path] = RecordBuilder()
        record = builder.build(doc.parsed, doc.results, same_tables, splice_note(doc.live))
        self.buffers[doc.path] = record
        self._recorded[doc.path] = analysed
        if self.workspace is None:
            return set()  # kept for when indexing ends
        paths = self.workspace.set_file(record)
        settled = self.settle_disk(paths)
        paths = None if paths is None or settled is None else paths | settled
        update = self.workspace.last_update
        self.stats.last_recomputed = update.recomputed if update is not None else -1
        self.stats.last_update_ms = (time.perf_counter() - started) * 1000
        return paths

    def findings(self, doc: OpenDocument) -> list[Finding]:
        """Findings through calls in the document, placed in its current text."""
        if self.workspace is None or doc.path not in self.buffers:
            return []
        found = [_placed(f, doc) for f in self.workspace.findings([doc.path])]
        if not found:
            return found
        # Whether the text holds a suppression comment at all, known without reading it.
        current = doc.parsed is not None and doc.parsed.source is doc.source
        return unsuppressed(doc.source, found, doc.live.marked if current else None)

    def describe(self, path: str, name: str) -> tuple[Summary, list[str]] | None:
        """For a hover: the summary of `name` as called from `path`, and the callees of that
        function that nothing in the index stands for."""
        if self.workspace is None:
            return None
        index = self.workspace.index
        keys = index.resolver.by_name(path, name)
        if not keys:
            return None
        unknown = sorted({c.site.callee for c in index.calls[keys[0]] if not c.targets.keys})
        return index.summaries[keys[0]], unknown

    def closed(self, path: str) -> set[str] | None:
        """Its file on disk takes the buffer's place again (or nothing, if there is none).
        Returns the paths whose findings through calls may have changed (None: any)."""
        self._builders.pop(path, None)
        self._recorded.pop(path, None)
        if self.buffers.pop(path, None) is None or self.workspace is None:
            return set()
        self.applied.pop(path, None)
        if path in self.indexed and os.path.isfile(path):
            effects = self.call_effects(path)
            result = check_file((path, None, self.enabled, True, effects))
            if result.record is not None:
                changed = self.workspace.set_file(result.record)
                settled = self.settle_disk(changed)
                return None if changed is None or settled is None else changed | settled
        return self.workspace.remove_file(path)

    # --- files changed on disk ---------------------------------------------------------------

    async def files_changed(self, paths: list[str]) -> set[str] | None:
        """C files and headers created, changed or deleted on disk behind the editor's back
        (a checkout, another editor): read them again, or drop them, and update the index.
        Open documents' files are left alone (their buffers count). Returns the paths whose
        findings through calls may have changed (None: any)."""
        if self.workspace is None:
            if self.indexing:  # the build may have read them before the change
                self._changed_while_indexing.update(paths)
            return set()
        async with self._disk_lock:  # batches apply in the order they came
            paths = [p for p in dict.fromkeys(paths) if p not in self.buffers]
            present = [p for p in paths if os.path.isfile(p)]
            records = await self._records(present, lambda done, total: None) if present else {}
            workspace = self.workspace
            affected: set[str] | None = set()
            for path in paths:
                if path in self.buffers:  # opened while the files were read
                    continue
                record = records.get(path)
                if record is not None:
                    self.indexed.add(path)
                    changed = workspace.set_file(record)
                    self._took_applied(workspace, path)
                elif workspace.record(path) is not None:
                    self.indexed.discard(path)
                    changed = workspace.remove_file(path)
                else:
                    continue
                self.stats.disk_updates += 1
                affected = None if affected is None or changed is None else affected | changed
            settled = self.settle_disk(None if affected is None else set(paths) | affected)
            self.stats.files = len(workspace.paths)
            self.stats.functions = len(workspace.index.functions)
            return None if affected is None or settled is None else affected | settled

    def changed_while_indexing(self) -> list[str]:
        """Files reported changed while the index was being built (once)."""
        paths = sorted(self._changed_while_indexing)
        self._changed_while_indexing.clear()
        return paths

    # --- indexing -------------------------------------------------------------------------

    async def build(
        self,
        files: list[str],
        report: Callable[[int, int], None],
        workers: int | None = None,
    ) -> None:
        """Index `files` (the disk), then the open buffers over them."""
        self.indexing = True
        started = time.perf_counter()
        try:
            records = await self._records(files, report, workers)
            self.indexed = set(files)
            snapshot = {**records, **self.buffers}
            workspace = Workspace(self.rules_for, self.enabled)
            for record in snapshot.values():
                workspace.set_file(record)
            open_paths = sorted(self.buffers)
            for path in records:
                self._took_applied(workspace, path)
            # Summaries and order cycles take a few hundred milliseconds on a large tree;
            # in a thread the event loop still gets the interpreter every few milliseconds.
            await asyncio.to_thread(self._prepare, workspace, open_paths)
            for path, record in self.buffers.items():
                if snapshot.get(path) is not record:  # edited while the thread ran
                    workspace.set_file(record)
            self.workspace = workspace
            # The index is hundreds of thousands of long-lived objects; a full collection
            # would walk them all (a 150 ms pause in the middle of typing). Frozen, the
            # collector leaves them alone; edits allocate little.
            gc.freeze()
            self.stats.files = len(snapshot)
            self.stats.functions = len(workspace.index.functions)
            self.stats.seconds = time.perf_counter() - started
        finally:
            self.indexing = False

    async def _records(
        self, files: list[str], report: Callable[[int, int], None], workers: int | None = None
    ) -> dict[str, FileRecord]:
        jobs = [(path, None, self.enabled, True) for path in files]
        records: dict[str, FileRecord] = {}

        def take(result: FileResult) -> None:
            if result.record is not None:
                records[result.path] = result.record
                self._read_with[result.path] = result.applied
            elif result.error:
                log.info("not indexed: %s: %s", result.path, result.error)
            report(len(records), len(files))

        if workers is None and os.environ.get("KVMLOCK_INDEX_WORKERS", "").isdigit():
            workers = int(os.environ["KVMLOCK_INDEX_WORKERS"])  # for benchmarks; 0: here
        if len(jobs) <= IN_PROCESS_FILES or workers == 0:
            for job in jobs:
                take(check_file(job))
                await asyncio.sleep(0)  # one file at a time between messages
            return records
        count = workers or max(1, min(4, (os.cpu_count() or 2) - 1))
        loop = asyncio.get_running_loop()
        # spawn, not fork: this process runs the event loop's threads.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(count, mp_context=context) as pool, cyclic_gc_paused():
            pending = [loop.run_in_executor(pool, check_file, job) for job in jobs]
            for next_done in asyncio.as_completed(pending):
                take(await next_done)
        return records


    def _prepare(self, workspace: Workspace, paths: list[str]) -> None:
        # The files read from disk were analysed without their calls' effects.
        self.settle_disk(None, workspace)
        workspace.findings(paths)  # the index, the order cycles and the open files' findings


_NO_EFFECTS: dict[str, CallEffect] = {}


def _placed(finding: Finding, doc: OpenDocument) -> Finding:
    """Records keep exact lines and columns; byte offsets go stale when an edit before a
    function on the same line shifts it (its record is reused), so take them from the text."""
    span = finding.span
    starts = doc.index.starts
    if span.line - 1 >= len(starts):
        return finding
    start = starts[span.line - 1] + span.column - 1
    if start == span.start_byte:
        return finding
    length = span.end_byte - span.start_byte
    moved = Span(start, start + length, span.line, span.column, span.end_line, span.end_column)
    return dataclasses.replace(finding, span=moved)
