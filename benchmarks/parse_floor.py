"""The floor: tree-sitter alone, per corpus file, on the raw text and on kvmlock's rewrite.

    python benchmarks/parse_floor.py [--corpus DIR] [--json out.json]
    python benchmarks/parse_floor.py --quick          # generated files, for the test suite

Per file: full parse (best of 3) of the raw text and of the rewritten text (what kvmlock
parses), the rewrite itself, and the incremental reparse after one single-character edit
inside a function (`Tree.edit` + `Parser.parse(new, old_tree)`, median of 20 edits, the
edits of benchmarks/edit_latency.py), on the raw and on the rewritten text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from tree_sitter import Parser, Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import add_corpus_argument, corpus_files, resolve_corpus  # noqa: E402
from edit_latency import edit_plan  # noqa: E402
from generate import generate  # noqa: E402

from kvmlock.syntax.document import new_parser  # noqa: E402
from kvmlock.syntax.rewrite import rewrite  # noqa: E402

EDITS = 20


def reparse_times(parser: Parser, text: bytes, plan: list[tuple[int, bytes]]) -> list[float]:
    """Tree.edit + incremental parse for each single-character insertion of `plan`."""
    tree = parser.parse(text)
    times = []
    for at, new in plan:
        line = text.count(b"\n", 0, at)
        column = at - (text.rfind(b"\n", 0, at) + 1)
        started = time.perf_counter()
        tree.edit(
            start_byte=at,
            old_end_byte=at,
            new_end_byte=at + len(new),
            start_point=Point(line, column),
            old_end_point=Point(line, column),
            new_end_point=Point(line, column + len(new)),
        )
        text = text[:at] + new + text[at:]
        tree = parser.parse(text, tree)
        times.append(time.perf_counter() - started)
    return times


def best(fn, repeat: int = 3) -> float:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return min(out)


def measure(name: str, source: bytes) -> dict:
    parser = new_parser()
    rewritten = rewrite(source).text
    try:
        plan = edit_plan(source, EDITS)
    except SystemExit:  # no function body (a header of declarations)
        plan = []
    row = {
        "file": name,
        "lines": source.count(b"\n") + 1,
        "parse_ms": best(lambda: parser.parse(source)) * 1000,
        "rewrite_ms": best(lambda: rewrite(source)) * 1000,
        "parse_rw_ms": best(lambda: parser.parse(rewritten)) * 1000,
        "reparse_ms": None,
        "reparse_rw_ms": None,
    }
    if plan:
        row["reparse_ms"] = statistics.median(reparse_times(parser, source, plan)) * 1000
        row["reparse_rw_ms"] = statistics.median(reparse_times(parser, rewritten, plan)) * 1000
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--quick", action="store_true", help="generated 1k/3k-line files")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if args.quick:
        inputs = [(f"gen{n}.c", generate(n).encode()) for n in (1000, 3000)]
    else:
        root = resolve_corpus(args.corpus)
        inputs = [(str(p.relative_to(root)), p.read_bytes()) for p in corpus_files(root)]
    rows = [measure(name, source) for name, source in inputs]

    def fmt(v: float | None) -> str:
        return "      -" if v is None else f"{v:7.2f}"

    print(
        f"{'file':44} {'lines':>6} {'parse':>7} {'rewrite':>7} {'parse_rw':>8}"
        f" {'reparse':>7} {'reparse_rw':>10}   (ms)"
    )
    for r in rows:
        print(
            f"{r['file']:44} {r['lines']:6d} {fmt(r['parse_ms'])} {fmt(r['rewrite_ms'])}"
            f"  {fmt(r['parse_rw_ms'])} {fmt(r['reparse_ms'])}    {fmt(r['reparse_rw_ms'])}"
        )
    lines = sum(r["lines"] for r in rows)
    parse = sum(r["parse_ms"] for r in rows)
    parse_rw = sum(r["parse_rw_ms"] for r in rows)
    rw = sum(r["rewrite_ms"] for r in rows)
    print(
        f"total: {len(rows)} files, {lines} lines; full parse raw {parse:.0f} ms,"
        f" rewrite {rw:.0f} ms, parse of rewritten {parse_rw:.0f} ms"
        f" ({lines / (parse / 1000):.0f} lines/s raw)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
