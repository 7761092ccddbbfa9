"""Server work per keystroke, next to tree-sitter's own incremental reparse of the same edit.

    python benchmarks/edit_latency.py                 # generated 1k- and 15k-line files
    python benchmarks/edit_latency.py --file x86.c    # any C file (e.g. from the corpus)
    python benchmarks/edit_latency.py --quick         # a few edits, for the test suite

For each single-character edit inside one function (typing a character into an identifier,
then deleting it), it measures in one run:
  floor  : Tree.edit + Parser.parse(new, old_tree) of the raw text (tree-sitter alone)
  server : what `kvmlock serve` does between didChange and publishDiagnostics, without the
           debounce: apply the LSP change to the document's bytes, incremental reparse,
           re-analysis of changed functions, conversion to LSP diagnostics.
Prints p50/p99 of both and their ratio; --json writes the numbers.
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

from generate import generate  # noqa: E402

from kvmlock.lsp.documents import OpenDocument  # noqa: E402
from kvmlock.lsp.positions import UTF16  # noqa: E402
from kvmlock.lsp.render import to_diagnostic  # noqa: E402
from kvmlock.lsp.settings import Settings  # noqa: E402
from kvmlock.rules.builtin import builtin_rule_base  # noqa: E402
from kvmlock.syntax.document import new_parser  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def edit_positions(text: bytes, count: int) -> list[int]:
    """Byte offsets inside identifiers of one function in the middle of the file."""
    middle = text.find(b"\n{\n", len(text) // 2)
    end = text.find(b"\n}\n", middle)
    spots = [i for i in range(middle, end) if text[i : i + 1] == b"(" and text[i - 1 : i].isalpha()]
    if not spots:
        raise SystemExit("no function found to edit")
    return [spots[(i // 2) % len(spots)] for i in range(count)]


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

    floor, server = [], []
    for step, at in enumerate(edit_positions(source, edits)):
        insert = step % 2 == 0
        # The same edit for both: insert "x" before `(`, or delete it again.
        old_end = at if insert else at + 1
        new_text = b"x" if insert else b""
        line = raw_text.count(b"\n", 0, at)
        column = at - (raw_text.rfind(b"\n", 0, at) + 1)

        started = time.perf_counter()
        raw_tree.edit(
            start_byte=at,
            old_end_byte=old_end,
            new_end_byte=at + len(new_text),
            start_point=Point(line, column),
            old_end_point=Point(line, column + (old_end - at)),
            new_end_point=Point(line, column + len(new_text)),
        )
        raw_text = raw_text[:at] + new_text + raw_text[old_end:]
        raw_tree = parser.parse(raw_text, raw_tree)
        floor.append(time.perf_counter() - started)

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
    return {
        "file": name,
        "lines": source.count(b"\n") + 1,
        "edits": edits,
        "floor_p50_ms": round(p50_floor * 1000, 3),
        "floor_p99_ms": round(percentile(floor, 0.99) * 1000, 3),
        "server_p50_ms": round(p50_server * 1000, 3),
        "server_p99_ms": round(percentile(server, 0.99) * 1000, 3),
        "ratio_p50": round(p50_server / p50_floor, 2),
        "reanalysed_per_edit": round((doc.live.cache.stats.analysed - analysed_at_open) / edits, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", action="append", default=[], help="C file(s) to edit")
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 edits on small files")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    edits = 20 if args.quick else args.edits
    inputs: list[tuple[str, bytes]] = []
    if args.file:
        inputs = [(Path(f).name, Path(f).read_bytes()) for f in args.file]
    else:
        sizes = (1000, 3000) if args.quick else (1000, 15000)
        inputs = [(f"gen{n}.c", generate(n).encode()) for n in sizes]
    results = [measure(name, source, edits) for name, source in inputs]
    for r in results:
        print(
            f"{r['file']:>14} {r['lines']:>6} lines  floor p50 {r['floor_p50_ms']:7.3f} ms"
            f" p99 {r['floor_p99_ms']:7.3f}  server p50 {r['server_p50_ms']:7.3f} ms"
            f" p99 {r['server_p99_ms']:7.3f}  ratio {r['ratio_p50']:5.2f}"
            f"  re-analysed/edit {r['reanalysed_per_edit']}"
        )
    if len(results) >= 2:
        flat = results[-1]["server_p50_ms"] / results[0]["server_p50_ms"]
        print(f"flatness: {results[-1]['file']} p50 / {results[0]['file']} p50 = {flat:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
