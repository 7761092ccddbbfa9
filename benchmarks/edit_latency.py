"""Server work per keystroke, next to tree-sitter's own incremental reparse of the same edit.

    python benchmarks/edit_latency.py [--corpus DIR]   # x86.c, kvm_main.c, mmu.c of the corpus
    python benchmarks/edit_latency.py --generated 1000,10000,50000   # flatness over sizes
    python benchmarks/edit_latency.py --file x86.c     # any C file
    python benchmarks/edit_latency.py --quick          # a few edits, for the test suite

For each single-character edit inside a function (typing into the name of a call, 8 letters
at a spot, then in the next function; see edit_plan), it measures in one run, in --rounds
rounds over every file (a fresh document and fresh trees each round; the passes run one after
the other, or edit by edit with --interleave; --cold MB writes over MB megabytes before every
timed step of every pass):
  floor  : Tree.edit + Parser.parse(new, old_tree) of the raw text (tree-sitter alone)
  floor' : the same on kvmlock's rewritten text, which is what the server parses (the
           rewrite is same-length, so the edit lands at the same offset; the rewrite itself
           is server work, not floor)
  server : what `kvmlock serve` does between didChange and publishDiagnostics, without the
           debounce: apply the LSP change to the document's bytes, incremental reparse,
           re-analysis of changed functions, conversion to LSP diagnostics.
Prints, as medians over the rounds, p50/p99 of each and the server's p50 over each floor's
p50 (each round's ratio; for generated files also each round's p50 over the first file's);
--json writes the numbers. The machine is shared and noisy: rounds spread the noise, and
ratios are taken within a round.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from tree_sitter import Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import KEY_FILES, add_corpus_argument, resolve_corpus  # noqa: E402
from generate import generate  # noqa: E402

from kvmlock.lsp.diagnostics import merged  # noqa: E402
from kvmlock.lsp.documents import OpenDocument  # noqa: E402
from kvmlock.lsp.positions import UTF16  # noqa: E402
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


@dataclass
class Edit:
    """One planned keystroke, as the floors (tree edit) and the server (LSP change) see it."""

    tree_edit: dict
    at: int
    old_end: int
    text: bytes
    change: types.TextDocumentContentChangePartial


def plan_edits(source: bytes, count: int) -> list[Edit]:
    edits, text = [], source
    for at, new_text in edit_plan(source, count):
        old_end = at
        line = text.count(b"\n", 0, at)
        column = at - (text.rfind(b"\n", 0, at) + 1)
        tree_edit = {
            "start_byte": at,
            "old_end_byte": old_end,
            "new_end_byte": at + len(new_text),
            "start_point": Point(line, column),
            "old_end_point": Point(line, column + (old_end - at)),
            "new_end_point": Point(line, column + len(new_text)),
        }
        change = types.TextDocumentContentChangePartial(
            range=types.Range(
                start=types.Position(line=line, character=column),
                end=types.Position(line=line, character=column + (old_end - at)),
            ),
            text=new_text.decode(),
        )
        edits.append(Edit(tree_edit, at, old_end, new_text, change))
        text = text[:at] + new_text + text[old_end:]
    return edits


class Floor:
    """tree-sitter alone: Tree.edit + Parser.parse(new, old_tree), per edit."""

    def __init__(self, text: bytes) -> None:
        self.parser = new_parser()
        self.text = text
        self.tree = self.parser.parse(text)

    def step(self, edit: Edit) -> float:
        started = time.perf_counter()
        self.tree.edit(**edit.tree_edit)
        self.text = self.text[: edit.at] + edit.text + self.text[edit.old_end :]
        self.tree = self.parser.parse(self.text, self.tree)
        return time.perf_counter() - started


class Server:
    """What `kvmlock serve` does between didChange and publishDiagnostics, without the
    debounce: the document's bytes, incremental reparse, re-analysis of changed functions,
    the diagnostics to publish (only the changed functions' rendered again)."""

    def __init__(self, name: str, source: bytes) -> None:
        self.rules = builtin_rule_base()
        self.settings = Settings()
        self.enabled = self.settings.enabled_checks()
        self.doc = OpenDocument("file:///bench/" + name, "/bench/" + name, source.decode(), 1)
        self.doc.analyse(self.rules, self.enabled)  # open: full parse and analysis
        merged(self.doc.diagnostics(UTF16, self.settings), [])
        self.analysed_at_open = self.doc.live.cache.stats.analysed

    def step(self, edit: Edit) -> float:
        doc = self.doc
        started = time.perf_counter()
        doc.apply(edit.change, UTF16)
        doc.version = (doc.version or 0) + 1
        doc.analyse(self.rules, self.enabled)
        merged(doc.diagnostics(UTF16, self.settings), [])  # the server's publish, no index
        return time.perf_counter() - started


class Cold:
    """Writes over `size` bytes before every timed step, in every pass alike: the CPU caches
    then hold what they would after the editor and other programs ran between keystrokes,
    whatever the size of the file being edited."""

    def __init__(self, size: int) -> None:
        self.buffer = bytearray(size)
        self.zeros = bytes(size)

    def __call__(self) -> None:
        if self.zeros:
            self.buffer[:] = self.zeros


def measure_round(
    name: str, source: bytes, edits: list[Edit], interleave: bool, flip: bool, cold: Cold
):
    """One round over a fresh document and fresh trees: each pass plays every edit. Passes
    run one after the other (in either order, `flip`), or edit by edit (`interleave`), where
    the floors' whole-file reparses evict what the server's next keystroke would find in the
    CPU caches — more so the larger the file."""
    floor, floor_rw, server = Floor(source), Floor(rewrite(source).text), Server(name, source)
    passes = [(floor, []), (floor_rw, []), (server, [])]
    if interleave:
        for edit in edits:
            for runner, times in passes:
                cold()
                times.append(runner.step(edit))
    else:
        for runner, times in reversed(passes) if flip else passes:
            gc.collect()
            for edit in edits:
                cold()
                times.append(runner.step(edit))
    if floor.text != server.doc.source or floor_rw.text != server.doc.parsed.text:
        raise SystemExit("the floors and the server edited different texts")
    analysed = server.doc.live.cache.stats.analysed - server.analysed_at_open
    return [times for _, times in passes], analysed / len(edits)


def summary(name: str, source: bytes, rounds: list) -> dict:
    """Medians over rounds of each round's p50 / p99, and of each round's ratios."""

    def per_round(which: int, q: float) -> list[float]:
        return [percentile(r[0][which], q) * 1000 for r in rounds]

    floor50, floor_rw50, server50 = (per_round(i, 0.5) for i in range(3))
    return {
        "file": name,
        "lines": source.count(b"\n") + 1,
        "edits": len(rounds[0][0][0]),
        "rounds": len(rounds),
        "floor_p50_ms": round(statistics.median(floor50), 3),
        "floor_p99_ms": round(statistics.median(per_round(0, 0.99)), 3),
        "floor_rw_p50_ms": round(statistics.median(floor_rw50), 3),
        "floor_rw_p99_ms": round(statistics.median(per_round(1, 0.99)), 3),
        "server_p50_ms": round(statistics.median(server50), 3),
        "server_p99_ms": round(statistics.median(per_round(2, 0.99)), 3),
        "ratio_p50": round(
            statistics.median(s / f for s, f in zip(server50, floor50, strict=True)), 2
        ),
        "ratio_rw_p50": round(
            statistics.median(s / f for s, f in zip(server50, floor_rw50, strict=True)), 2
        ),
        "server_p50_rounds_ms": [round(x, 3) for x in server50],
        "reanalysed_per_edit": round(statistics.median(r[1] for r in rounds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--file", action="append", default=[], help="C file(s) to edit")
    parser.add_argument(
        "--generated", help="comma-separated line counts of generated files, e.g. 1000,10000"
    )
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds over every file (medians are reported)"
    )
    parser.add_argument(
        "--cold",
        type=int,
        default=0,
        metavar="MB",
        help="write over MB megabytes before every timed step (caches as after other work)",
    )
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="time the floors and the server edit by edit (the method before 2026-12-06)",
    )
    parser.add_argument("--quick", action="store_true", help="20 edits on small files")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    edits = 20 if args.quick else args.edits
    if args.quick:
        args.rounds = 1
    inputs: list[tuple[str, bytes]] = []
    if args.file:
        inputs = [(Path(f).name, Path(f).read_bytes()) for f in args.file]
    elif args.quick or args.generated:
        sizes = [1000, 3000] if args.quick else [int(n) for n in args.generated.split(",")]
        inputs = [(f"gen{n}.c", generate(n).encode()) for n in sizes]
    else:
        root = resolve_corpus(args.corpus)
        inputs = [(Path(f).name, (root / f).read_bytes()) for f in KEY_FILES]
    plans = [plan_edits(source, edits) for _, source in inputs]
    cold = Cold(args.cold << 20)
    per_file: list[list] = [[] for _ in inputs]
    for number in range(args.rounds):
        for i, (name, source) in enumerate(inputs):
            per_file[i].append(
                measure_round(name, source, plans[i], args.interleave, number % 2 == 1, cold)
            )
    results = [summary(name, source, per_file[i]) for i, (name, source) in enumerate(inputs)]
    for r in results:
        print(
            f"{r['file']:>12} {r['lines']:>6} lines  floor p50 {r['floor_p50_ms']:7.3f} ms"
            f" p99 {r['floor_p99_ms']:7.3f}  floor' p50 {r['floor_rw_p50_ms']:7.3f}"
            f" p99 {r['floor_rw_p99_ms']:7.3f}  server p50 {r['server_p50_ms']:7.3f}"
            f" p99 {r['server_p99_ms']:7.3f}  ratio {r['ratio_p50']:5.2f}"
            f" ratio' {r['ratio_rw_p50']:5.2f}  re-analysed/edit {r['reanalysed_per_edit']}"
        )
    if len(results) >= 2 and all(r["file"].startswith("gen") for r in results):
        first = results[0]["server_p50_rounds_ms"]
        for r in results[1:]:
            flat = statistics.median(
                x / y for x, y in zip(r["server_p50_rounds_ms"], first, strict=True)
            )
            r["flatness"] = round(flat, 2)
            print(
                f"flatness: {r['file']} p50 / {results[0]['file']} p50 = {flat:.2f}"
                " (median over rounds of each round's ratio)"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
