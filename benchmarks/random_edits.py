"""Server work per edit for a random mix of real edits on real files, by kind of edit.

    python benchmarks/random_edits.py [--corpus DIR] [--edits 150] [--seed 1]

Not typing letters into a call name: each edit is one of benchmarks/fuzz_edits.py's kinds
that a person makes while writing code (a character, a deletion of one or of up to 40
characters, a replaced span, multi-byte text, a brace, a preprocessor line, a lock
statement, a CRLF), at a random place in x86.c, kvm_main.c, mmu.c and arm64's vgic.c of the
corpus. Edits pile up, so the files soon hold unbalanced braces, open comments and strings
and ERROR regions, as a file being typed does. Each edit is applied to the bytes and timed
through `LiveDocument.update` (incremental reparse, re-index, re-analysis of changed
functions) with the call effects a one-file workspace gives (when the kvmlock under test has
them); prints p50/p90 per kind and per file. Run it with PYTHONPATH pointing at another
checkout's server/ to compare two versions on the same edits (same --seed).
"""

from __future__ import annotations

import argparse
import inspect
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import add_corpus_argument, resolve_corpus  # noqa: E402
from fuzz_edits import apply_change, make_edit  # noqa: E402

FILES = (
    "arch/x86/kvm/x86.c",
    "virt/kvm/kvm_main.c",
    "arch/x86/kvm/mmu/mmu.c",
    "arch/arm64/kvm/vgic/vgic.c",
)
KEYSTROKE_KINDS = frozenset(
    {"insert-char", "delete-char", "delete-span", "replace-span", "multibyte", "brace",
     "directive", "statement", "crlf"}
)


def run_file(path: Path, edits: int, seed: int) -> dict[str, list[float]]:
    from kvmlock.analysis.checks import registry
    from kvmlock.analysis.live import LiveDocument
    from kvmlock.rules.discover import load_rules

    rules = load_rules(None, near=path)
    enabled = frozenset(registry())
    text = path.read_text(encoding="utf-8")
    live = LiveDocument(str(path))
    extra = {}
    if "call_effects" in inspect.signature(LiveDocument.update).parameters:
        extra["call_effects"] = _own_effects(path, text, rules)
    live.update(text.encode(), rules, enabled, **extra)
    rng = random.Random(seed)
    times: dict[str, list[float]] = defaultdict(list)
    done = 0
    while done < edits:
        kind, change = make_edit(text, lambda lo, hi: rng.randint(lo, hi), ("",))
        if kind not in KEYSTROKE_KINDS:
            continue
        text = apply_change(text, change)
        source = text.encode()
        start = time.perf_counter()
        live.update(source, rules, enabled, **extra)
        times[kind].append((time.perf_counter() - start) * 1000)
        done += 1
    return times


def _own_effects(path: Path, text: str, rules):
    """The call effects the file's own functions give its calls (a one-file workspace)."""
    from kvmlock.analysis.engine import analyse_functions
    from kvmlock.interproc.records import file_record
    from kvmlock.interproc.workspace import Workspace
    from kvmlock.syntax.document import parse_document

    doc = parse_document(str(path), text.encode())
    workspace = Workspace(lambda _p: rules)
    workspace.set_file(file_record(doc, analyse_functions(doc, rules)))
    return workspace.call_effects(str(path), every=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--edits", type=int, default=150, help="edits per file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = resolve_corpus(args.corpus)
    import kvmlock

    print(f"kvmlock from {Path(kvmlock.__file__).parent}")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for name in FILES:
        times = run_file(root / name, args.edits, args.seed)
        every = [t for ts in times.values() for t in ts]
        print(f"{Path(name).name:>12}: p50 {statistics.median(every):7.3f} ms  "
              f"p90 {_p90(every):7.3f} ms  ({len(every)} edits)")
        for kind, ts in times.items():
            by_kind[kind].extend(ts)
    for kind in sorted(by_kind):
        ts = by_kind[kind]
        print(f"{kind:>14}: p50 {statistics.median(ts):7.3f} ms  p90 {_p90(ts):7.3f} ms  "
              f"({len(ts)})")


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


if __name__ == "__main__":
    main()
