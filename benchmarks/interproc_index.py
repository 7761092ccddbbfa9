"""Time and peak memory of the interprocedural index over a tree, phase by phase.

    python benchmarks/generate_tree.py --lines 150000 --files 120 -o /tmp/gentree
    python benchmarks/interproc_index.py -j 2 /tmp/gentree

Phases: the per-file work in worker processes (parse, per-function analysis, the file
record), then in this process the summaries (call binding and fixpoint) and the findings
through calls and order cycles. Peak memory is this process's maximum RSS, which holds every
record and summary; workers are reported separately.
"""

from __future__ import annotations

import argparse
import pickle
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from kvmlock.cli import check_file, collect_files
from kvmlock.interproc.workspace import Workspace
from kvmlock.rules.discover import load_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()

    files = collect_files(args.paths, [])
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    start = time.perf_counter()
    jobs = [(path, None, None, True) for path in files]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(check_file, jobs, chunksize=4))
    workers = time.perf_counter() - start
    records = [r.record for r in results if r.record is not None]
    functions = sum(len(r.functions) for r in records)
    calls = sum(len(f.observations.calls) for r in records for f in r.functions)

    rules = load_rules(None, near=Path(files[0]))
    workspace = Workspace(lambda _path: rules)
    for record in records:
        workspace.set_file(record)
    start = time.perf_counter()
    index = workspace.index
    summaries = time.perf_counter() - start
    start = time.perf_counter()
    findings = workspace.findings()
    checks = time.perf_counter() - start

    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{len(files)} files, {lines} lines, {functions} functions, {calls} call sites")
    print(f"records: {len(pickle.dumps(records)) / 1e6:.1f} MB pickled")
    print(f"workers (-j {args.jobs}, parse + analysis + records): {workers:.2f} s")
    print(f"summaries ({len(index.summaries)}): {summaries:.2f} s")
    print(f"findings through calls and cycles ({len(findings)}): {checks:.2f} s")
    print(f"peak RSS: this process {peak_self:.0f} MB, largest worker {peak_workers:.0f} MB")


if __name__ == "__main__":
    main()
