"""Headless `kvmlock check` over the corpus: wall time, lines/s, peak RSS, where time goes.

    python benchmarks/headless.py [--corpus DIR] [--repeat 3] [--json out.json]
    python benchmarks/headless.py --quick        # a generated tree, for the test suite

Two parts, in one run:
  runs   : the real CLI (`kvmlock check -j 1 / -j 2`, with and without
           `--no-interprocedural`) as a subprocess on the corpus directories; wall time (best of
           --repeat), CPU (user + sys of the process tree), lines/s, findings, and peak RSS of
           the parent and of each worker (VmHWM of every process in the tree, sampled from
           /proc every 50 ms).
  phases : in this process, one file after the other, what `check_file` does: rewrite,
           tree-sitter parse of the rewritten text, function index, per-function analysis,
           interprocedural record; then the workspace index and findings through calls.
           "analysis / parse" is per-function analysis over the tree-sitter parse. Each
           phase is CPU time (time.process_time), the least over --phase-rounds rounds: on
           a shared machine wall time measures the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import add_corpus_argument, corpus_files, resolve_corpus  # noqa: E402

CORPUS_DIRS = ("virt/kvm", "arch/x86/kvm", "include/linux")


def kvmlock_command() -> list[str]:
    exe = Path(sys.executable).with_name("kvmlock")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kvmlock.cli"]


def _hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def run_sampled(cmd: list[str], cwd: Path) -> dict:
    """Run `cmd`; wall time and the peak RSS of it and of every descendant."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        stack = [proc.pid]
        while stack:
            pid = stack.pop()
            hwm = _hwm_kb(pid)
            if hwm is not None:
                peaks[pid] = max(peaks.get(pid, 0), hwm)
            stack.extend(_children(pid))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    parent = peaks.pop(proc.pid, 0)
    summary = out.decode().strip().splitlines()[-1] if out.strip() else ""
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "parent_peak_mb": parent / 1024,
        "worker_peak_mb": [round(v / 1024, 1) for v in sorted(peaks.values(), reverse=True)],
        "summary": summary,
        "findings": _count_findings(out.decode()),
    }


def _count_findings(text: str) -> int:
    return sum(
        1
        for line in text.splitlines()
        if any(f": {sev}: " in line for sev in ("error", "warning", "note"))
    )


def cli_runs(root: Path, paths: list[str], lines: int, repeat: int) -> list[dict]:
    rows = []
    for interproc in (False, True):
        for jobs in (1, 2):
            cmd = [*kvmlock_command(), "check", "--no-color", "-j", str(jobs), *paths]
            if not interproc:
                cmd.insert(-len(paths), "--no-interprocedural")
            runs = [run_sampled(cmd, root) for _ in range(repeat)]
            fastest = min(runs, key=lambda r: r["wall_s"])
            rows.append(
                {
                    "jobs": jobs,
                    "interprocedural": interproc,
                    "command": " ".join(["kvmlock", *cmd[cmd.index("check") :]]),
                    "wall_s": round(fastest["wall_s"], 3),
                    "walls_s": [round(r["wall_s"], 3) for r in runs],
                    "cpu_s": [round(r["cpu_s"], 2) for r in runs],
                    "lines_per_s": round(lines / fastest["wall_s"]),
                    "parent_peak_mb": round(max(r["parent_peak_mb"] for r in runs), 1),
                    "worker_peak_mb": max((r["worker_peak_mb"] for r in runs), key=len),
                    "findings": fastest["findings"],
                }
            )
    return rows


def phases(files: list[Path], rounds: int = 1) -> dict:
    """Each phase's least CPU time over `rounds` rounds."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for key, value in _phases_once(files).items():
            best[key] = min(best.get(key, value), value)
    out = {k: round(v, 3) for k, v in best.items()}
    out["analysis_over_parse"] = round(best["analysis"] / best["parse"], 2)
    out["analysis_all_over_parse"] = round(
        (best["analysis"] + best["index"] + best["record"]) / best["parse"], 2
    )
    return out


def _phases_once(files: list[Path]) -> dict[str, float]:
    from kvmlock.analysis.engine import analyse_functions
    from kvmlock.interproc.records import file_record
    from kvmlock.interproc.workspace import Workspace
    from kvmlock.rules.discover import load_rules
    from kvmlock.syntax.document import SourceDocument, _shared_parser
    from kvmlock.syntax.rewrite import rewrite

    totals = dict.fromkeys(("rewrite", "parse", "index", "analysis", "record"), 0.0)
    parser = _shared_parser()
    records = []
    rules = load_rules(None, near=files[0])
    clock = time.process_time
    for path in files:
        source = path.read_bytes()
        rules = load_rules(None, near=path)
        t0 = clock()
        rewritten = rewrite(source)
        t1 = clock()
        tree = parser.parse(rewritten.text)
        t2 = clock()
        doc = SourceDocument(str(path), source, rewritten.text, tree, rewritten.annotations)
        doc.functions  # noqa: B018 - the index, timed on its own
        t3 = clock()
        results = analyse_functions(doc, rules)
        t4 = clock()
        records.append(file_record(doc, results))
        t5 = clock()
        for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            totals[key] += dt
    workspace = Workspace(lambda _path: rules)
    for record in records:
        workspace.set_file(record)
    t0 = clock()
    workspace.index  # noqa: B018 - summaries, timed on their own
    t1 = clock()
    workspace.findings()
    t2 = clock()
    totals["summaries"] = t1 - t0
    totals["through_calls"] = t2 - t1
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--repeat", type=int, default=3, help="CLI runs per setting (best)")
    parser.add_argument("--phase-rounds", type=int, default=3, help="phases: least of N")
    parser.add_argument("--quick", action="store_true", help="a small generated tree, 1 run")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()
    tmp = None
    if args.quick:
        from generate_tree import main as generate_tree_main

        tmp = tempfile.TemporaryDirectory(prefix="kvmlock-headless-")
        root = Path(tmp.name)
        argv = sys.argv
        sys.argv = ["generate_tree", "--lines", "3000", "--files", "4", "-o", str(root / "t")]
        generate_tree_main()
        sys.argv = argv
        paths = ["t"]
        files = sorted((root / "t").rglob("*.[ch]"))
        repeat = 1
    else:
        root = resolve_corpus(args.corpus)
        paths = [d for d in CORPUS_DIRS if d != "include/linux"] + sorted(
            str(p.relative_to(root)) for p in (root / "include/linux").glob("kvm*.h")
        )
        files = corpus_files(root)
        repeat = args.repeat
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    result = {
        "files": len(files),
        "lines": lines,
        "load_before": os.getloadavg(),
        "runs": cli_runs(root, paths, lines, repeat),
        "phases_s": phases(files, 1 if args.quick else args.phase_rounds),
        "load_after": os.getloadavg(),
    }
    print(f"{len(files)} files, {lines} lines; load {result['load_before'][0]:.2f}")
    for r in result["runs"]:
        print(
            f"  -j {r['jobs']} {'interproc   ' if r['interprocedural'] else 'no-interproc'}"
            f"  wall {r['wall_s']:.2f} s (runs {r['walls_s']}, CPU {r['cpu_s']})"
            f"  {r['lines_per_s']} lines/s"
            f"  parent peak {r['parent_peak_mb']} MB  worker peaks {r['worker_peak_mb']} MB"
            f"  findings {r['findings']}"
        )
    ph = result["phases_s"]
    print(
        "  phases (one process, CPU s): "
        + ", ".join(f"{k} {v}" for k, v in ph.items() if not k.startswith("analysis_"))
    )
    print(
        f"  analysis / parse = {ph['analysis_over_parse']}"
        f"  (with index and record: {ph['analysis_all_over_parse']})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
