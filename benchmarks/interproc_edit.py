"""The language server's interprocedural work per keystroke, on a real workspace index.

    python benchmarks/interproc_edit.py                      # the 6.1 corpus, x86.c and kvm_main.c
    python benchmarks/interproc_edit.py --root DIR --file DIR/a.c --edits 100

Indexes the workspace as `kvmlock serve` does after `initialized` (the same file selection,
worker processes, summaries), opens each file as an editor buffer, then makes single-character
edits inside one function in the middle of the file (typing a character into a callee's
name, then deleting it: the record changes every time, the callee binding too), and with
--newlines also newlines typed above the middle (every function below moves a line).

Per edit it times, separately:
  per-function : apply the change, incremental reparse, re-analysis of changed functions,
                 LSP diagnostics (the path benchmarks/edit_latency.py measures)
  interproc    : the buffer's new record, the incremental index update and this document's
                 findings through calls (ServerIndex.buffer_changed + findings)
and counts the summaries recomputed. Prints p50/p99; --json writes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from kvmlock.interproc.workspace import Workspace  # noqa: E402
from kvmlock.lsp.diagnostics import merged, rendered  # noqa: E402
from kvmlock.lsp.documents import OpenDocument  # noqa: E402
from kvmlock.lsp.positions import UTF16  # noqa: E402
from kvmlock.lsp.settings import Settings  # noqa: E402
from kvmlock.lsp.workspace_index import (  # noqa: E402
    ServerIndex,
    bounded,
    kernel_roots,
    source_files,
)
from kvmlock.rules.discover import load_rules  # noqa: E402

CORPUS = Path.home() / ".cache" / "kvmlock" / "corpus" / "src" / "linux-source-6.1"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def callee_spots(text: bytes, count: int) -> list[int]:
    """Offsets just before `(` of calls in one function in the middle of the file."""
    middle = text.find(b"\n{\n", len(text) // 2)
    end = text.find(b"\n}\n", middle)
    spots = [i for i in range(middle, end) if text[i : i + 1] == b"(" and text[i - 1 : i].isalpha()]
    if not spots:
        raise SystemExit("no function found to edit")
    return [spots[(i // 2) % len(spots)] for i in range(count)]


def name_spots(text: bytes, count: int) -> list[int]:
    """The end of the middle function's name: typing there renames it."""
    end = text.find(b"\n{\n", len(text) // 2)
    while True:  # back to the declarator's first line: `static int name(` at column 0
        start = text.rfind(b"\n", 0, end) + 1
        paren = text.find(b"(", start, end)
        if paren > start and text[start : start + 1] not in (b" ", b"\t"):
            return [paren] * count
        end = start - 1


def line_spots(text: bytes, count: int) -> list[int]:
    """The start of the line of the middle function's opening brace, over and over."""
    middle = text.find(b"\n{\n", len(text) // 2) + 1
    return [middle] * count


def change_at(
    text: bytes, at: int, insert: bytes, remove: int
) -> types.TextDocumentContentChangePartial:
    line = text.count(b"\n", 0, at)
    column = at - (text.rfind(b"\n", 0, at) + 1)
    end = types.Position(line=line, character=column + remove)
    if remove and text[at : at + remove] == b"\n":
        end = types.Position(line=line + 1, character=0)
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=line, character=column), end=end),
        text=insert.decode(),
    )


def rebuilt(index: ServerIndex, doc: OpenDocument) -> None:
    """What an edit cost before the index was incremental: a new index over every record."""
    old = index.workspace
    assert old is not None
    workspace = Workspace(index.rules_for, index.enabled)
    for path in old.paths:
        record = index.buffers.get(path) or old.record(path)
        assert record is not None
        workspace.set_file(record)
    index.workspace = workspace
    workspace.findings([doc.path])
    index.stats.last_recomputed = workspace.index.recomputed


def measure(
    index: ServerIndex,
    path: str,
    edits: int,
    typed: bytes,
    spots,
    full: bool = False,
    rename: bool = False,
) -> dict:
    settings = Settings()
    enabled = settings.enabled_checks()
    rules = index.rules_for(path)
    source = Path(path).read_bytes()
    doc = OpenDocument(Path(path).as_uri(), path, source.decode(), 1)
    doc.analyse(rules, enabled)
    index.buffer_changed(doc, False)  # the buffer replaces the disk record: not measured
    index.findings(doc)
    local, through, recomputed = [], [], []
    for step, at in enumerate(spots(doc.source, edits)):
        insert = step % 2 == 0
        change = change_at(doc.source, at, typed if insert else b"", 0 if insert else len(typed))
        started = time.perf_counter()
        doc.apply(change, UTF16)
        doc.version = (doc.version or 0) + 1
        context = doc.live.ctx
        doc.analyse(rules, enabled)
        own = doc.diagnostics(UTF16, settings)
        middle = time.perf_counter()
        index.buffer_changed(doc, doc.live.ctx is context)
        if full:
            rebuilt(index, doc)
        found = index.findings(doc)
        merged(own, rendered(found, doc.uri, doc.index, UTF16, settings))  # the publish
        done = time.perf_counter()
        local.append(middle - started)
        through.append(done - middle)
        recomputed.append(index.stats.last_recomputed)
    return {
        "file": str(Path(path).name),
        "edit": ("newline" if typed == b"\n" else "rename" if rename else "character")
        + (" (rebuild)" if full else ""),
        "edits": edits,
        "per_function_p50_ms": round(statistics.median(local) * 1000, 3),
        "per_function_p99_ms": round(percentile(local, 0.99) * 1000, 3),
        "interproc_p50_ms": round(statistics.median(through) * 1000, 3),
        "interproc_p99_ms": round(percentile(through, 0.99) * 1000, 3),
        "recomputed_p50": statistics.median(recomputed),
        "recomputed_max": max(recomputed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(CORPUS), help="workspace folder")
    parser.add_argument("--file", action="append", default=[], help="file(s) to edit")
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--newlines", action="store_true", help="also type newlines")
    parser.add_argument("--renames", action="store_true", help="also type into a function name")
    parser.add_argument(
        "--rebuild", type=int, default=0, help="also N edits rebuilding the index (the old way)"
    )
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    root = Path(args.root)
    targets = args.file or [
        str(root / "arch/x86/kvm/x86.c"),
        str(root / "virt/kvm/kvm_main.c"),
    ]
    files, truncated = bounded(source_files(kernel_roots(root)), Settings().index_max_files)
    rules_cache: dict[str, object] = {}

    def rules_for(path: str):
        directory = str(Path(path).parent)
        if directory not in rules_cache:
            rules_cache[directory] = load_rules(None, Path(path))
        return rules_cache[directory]

    index = ServerIndex(rules_for, Settings().enabled_checks())
    started = time.perf_counter()
    asyncio.run(index.build(files, lambda done, total: None))
    print(
        f"index: {index.stats.files} files{' (truncated)' if truncated else ''}, "
        f"{index.stats.functions} functions, {time.perf_counter() - started:.2f} s"
    )
    results = []
    for path in targets:
        results.append(measure(index, path, args.edits, b"x", callee_spots))
        if args.newlines:
            results.append(measure(index, path, args.edits, b"\n", line_spots))
        if args.renames:
            results.append(measure(index, path, args.edits, b"x", name_spots, rename=True))
        if args.rebuild:
            results.append(measure(index, path, args.rebuild, b"x", callee_spots, full=True))
    for r in results:
        print(
            f"{r['file']:>12} {r['edit']:>9}: per-function p50 {r['per_function_p50_ms']:7.3f} ms"
            f" p99 {r['per_function_p99_ms']:7.3f}   interproc p50 {r['interproc_p50_ms']:7.3f}"
            f" ms p99 {r['interproc_p99_ms']:7.3f}   summaries recomputed p50"
            f" {r['recomputed_p50']} max {r['recomputed_max']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
