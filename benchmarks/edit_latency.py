"""Server work per keystroke, next to tree-sitter's own incremental reparse of the same edit.

    python benchmarks/edit_latency.py [--corpus DIR]   # x86.c, kvm_main.c, mmu.c of the corpus
    python benchmarks/edit_latency.py --generated 1000,10000,50000   # flatness over sizes
    python benchmarks/edit_latency.py --file x86.c     # any C file
    python benchmarks/edit_latency.py --quick          # a few edits, for the test suite

For each single-character edit inside a function (typing into the name of a call, 8 letters
at a spot, then in the next function; see edit_plan), it measures in one run:
  floor  : Tree.edit + Parser.parse(new, old_tree) of the raw text (tree-sitter alone)
  floor' : the same on kvmlock's rewritten text, which is what the server parses (the
           rewrite is same-length, so the edit lands at the same offset; the rewrite itself
           is server work, not floor)
  server : what `kvmlock serve` does between didChange and publishDiagnostics, without the
           debounce: apply the LSP change to the document's bytes, incremental reparse,
           re-analysis of changed functions, conversion to LSP diagnostics.
Prints p50/p99 of each and the server's p50 over each floor's p50; --json writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from tree_sitter import Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import KEY_FILES, add_corpus_argument, resolve_corpus  # noqa: E402
from generate import generate  # noqa: E402

from kvmlock.lsp.documents import OpenDocument  # noqa: E402
from kvmlock.lsp.positions import UTF16  # noqa: E402
from kvmlock.lsp.render import to_diagnostic  # noqa: E402
from kvmlock.lsp.settings import Settings  # noqa: E402
from kvmlock.rules.builtin import builtin_rule_base  # noqa: E402
from kvmlock.syntax.document import new_parser  # noqa: E402
from kvmlock.syntax.rewrite import rewrite  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


RUN = 8  # characters typed at one spot before moving to the next


def edit_plan(text: bytes, count: int) -> list[tuple[int, bytes]]:
    """`count` single-character insertions, as offsets into the text as it is when each is
    made: typing RUN letters into the name of a call (before its `(`), then moving to a call
    in the next function, from the middle of the file on. Every edit leaves text the server
    has not seen (no undo), so each one re-analyses the edited function: real work, never a
    cache hit."""
    spots: list[int] = []
    pos = text.find(b"\n{\n", len(text) // 2)
    if pos < 0:
        pos = text.find(b"\n{\n")
    needed = -(-count // RUN)
    while pos >= 0 and len(spots) < needed:
        end = text.find(b"\n}\n", pos)
        if end < 0:
            break
        calls = [i for i in range(pos, end) if text[i] == 40 and text[i - 1 : i].isalpha()]
        # One spot per function while there are functions left, else several in this one.
        spots.extend(calls[:1] if text.find(b"\n{\n", end) >= 0 else calls)
        pos = text.find(b"\n{\n", end)
    if not spots:
        raise SystemExit("no function found to edit")
    spots = spots[:needed]
    letters = b"abcdefghijklmnopqrstuvwxyz"
    # Every earlier insertion lies before this spot: the spot moved right by `step` bytes.
    return [
        (spots[min(step // RUN, len(spots) - 1)] + step, letters[step % 26 : step % 26 + 1])
        for step in range(count)
    ]


def measure(name: str, source: bytes, edits: int) -> dict:
    rules = builtin_rule_base()
    settings = Settings()
    enabled = settings.enabled_checks()
    doc = OpenDocument("file:///bench/" + name, "/bench/" + name, source.decode(), 1)
    doc.analyse(rules, enabled)  # open: full parse and analysis, not measured
    analysed_at_open = doc.live.cache.stats.analysed

    parser = new_parser()
    raw_text = source
    raw_tree = parser.parse(raw_text)
    rw_text = rewrite(source).text
    rw_tree = parser.parse(rw_text)

    floor, floor_rw, server = [], [], []
    for at, new_text in edit_plan(source, edits):
        # The same edit for the floors and the server: one character typed at `at`.
        old_end = at
        line = raw_text.count(b"\n", 0, at)
        column = at - (raw_text.rfind(b"\n", 0, at) + 1)

        edit = {
            "start_byte": at,
            "old_end_byte": old_end,
            "new_end_byte": at + len(new_text),
            "start_point": Point(line, column),
            "old_end_point": Point(line, column + (old_end - at)),
            "new_end_point": Point(line, column + len(new_text)),
        }
        started = time.perf_counter()
        raw_tree.edit(**edit)
        raw_text = raw_text[:at] + new_text + raw_text[old_end:]
        raw_tree = parser.parse(raw_text, raw_tree)
        floor.append(time.perf_counter() - started)

        started = time.perf_counter()
        rw_tree.edit(**edit)
        rw_text = rw_text[:at] + new_text + rw_text[old_end:]
        rw_tree = parser.parse(rw_text, rw_tree)
        floor_rw.append(time.perf_counter() - started)

        change = types.TextDocumentContentChangePartial(
            range=types.Range(
                start=types.Position(line=line, character=column),
                end=types.Position(line=line, character=column + (old_end - at)),
            ),
            text=new_text.decode(),
        )
        started = time.perf_counter()
        doc.apply(change, UTF16)
        doc.version = (doc.version or 0) + 1
        findings = doc.analyse(rules, enabled)
        [to_diagnostic(f, doc.uri, doc.index, UTF16, settings) for f in findings]
        server.append(time.perf_counter() - started)
    if raw_text != doc.source:
        raise SystemExit("the floor and the server edited different texts")
    p50_floor, p50_server = statistics.median(floor), statistics.median(server)
    p50_floor_rw = statistics.median(floor_rw)
    return {
        "file": name,
        "lines": source.count(b"\n") + 1,
        "edits": edits,
        "floor_p50_ms": round(p50_floor * 1000, 3),
        "floor_p99_ms": round(percentile(floor, 0.99) * 1000, 3),
        "floor_rw_p50_ms": round(p50_floor_rw * 1000, 3),
        "floor_rw_p99_ms": round(percentile(floor_rw, 0.99) * 1000, 3),
        "server_p50_ms": round(p50_server * 1000, 3),
        "server_p99_ms": round(percentile(server, 0.99) * 1000, 3),
        "ratio_p50": round(p50_server / p50_floor, 2),
        "ratio_rw_p50": round(p50_server / p50_floor_rw, 2),
        "reanalysed_per_edit": round((doc.live.cache.stats.analysed - analysed_at_open) / edits, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--file", action="append", default=[], help="C file(s) to edit")
    parser.add_argument(
        "--generated", help="comma-separated line counts of generated files, e.g. 1000,10000"
    )
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 edits on small files")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    edits = 20 if args.quick else args.edits
    inputs: list[tuple[str, bytes]] = []
    if args.file:
        inputs = [(Path(f).name, Path(f).read_bytes()) for f in args.file]
    elif args.quick or args.generated:
        sizes = [1000, 3000] if args.quick else [int(n) for n in args.generated.split(",")]
        inputs = [(f"gen{n}.c", generate(n).encode()) for n in sizes]
    else:
        root = resolve_corpus(args.corpus)
        inputs = [(Path(f).name, (root / f).read_bytes()) for f in KEY_FILES]
    results = [measure(name, source, edits) for name, source in inputs]
    for r in results:
        print(
            f"{r['file']:>12} {r['lines']:>6} lines  floor p50 {r['floor_p50_ms']:7.3f} ms"
            f" p99 {r['floor_p99_ms']:7.3f}  floor' p50 {r['floor_rw_p50_ms']:7.3f}"
            f" p99 {r['floor_rw_p99_ms']:7.3f}  server p50 {r['server_p50_ms']:7.3f}"
            f" p99 {r['server_p99_ms']:7.3f}  ratio {r['ratio_p50']:5.2f}"
            f" ratio' {r['ratio_rw_p50']:5.2f}  re-analysed/edit {r['reanalysed_per_edit']}"
        )
    if len(results) >= 2 and all(r["file"].startswith("gen") for r in results):
        flat = results[-1]["server_p50_ms"] / results[0]["server_p50_ms"]
        print(f"flatness: {results[-1]['file']} p50 / {results[0]['file']} p50 = {flat:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
