"""kvmlock next to Coccinelle on the same files, in one run.

    bash benchmarks/peers/install.sh                   # Debian coccinelle (spatch), once
    python benchmarks/peers/coccinelle.py [--corpus DIR] [--repeat 3] [--json out.json]
    python benchmarks/peers/coccinelle.py --quick      # a generated file, for the test suite

Two semantic patches of ours stand in for two of kvmlock's rules (both with `exists`, so a
lock under an `if` is found, and both also matching `guard(mutex)(...)`):
  srcu_mutex.cocci      : a mutex taken inside a srcu_read_lock(&E->srcu) section
  slots_then_lock.cocci : K->lock taken while K->slots_lock is held
and both in one semantic patch (the rules renamed apart, made at run time), which parses each
file once. Each runs as `spatch --jobs 2 --include-headers --no-includes --very-quiet --dir ROOT`;
kvmlock runs as `kvmlock check -j 2` (every check, with and without the interprocedural
pass) over the same .c and .h files. Runs are interleaved (spatch, spatch, kvmlock, kvmlock)
--repeat times; the best wall time of each is reported (and the CPU time of every run: user +
sys of the process tree, steadier on a shared machine), with each tool's findings.
Without spatch installed the spatch rows say so (the --quick test does not need it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from corpus import add_corpus_argument, corpus_files, resolve_corpus  # noqa: E402
from generate import generate  # noqa: E402

RULES = ("srcu_mutex.cocci", "slots_then_lock.cocci")
_FINDING = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?:\d+:)? (?P<rest>.*)$")


def kvmlock_command() -> list[str]:
    exe = Path(sys.executable).with_name("kvmlock")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kvmlock.cli"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, list[str]]:
    """Wall time, CPU time (user + sys of the command and its children) and findings."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    findings = sorted({line for line in proc.stdout.splitlines() if _FINDING.match(line)})
    return wall, cpu, findings


def combined_rule(path: Path, name: str) -> str:
    """The semantic patch at `path` with its match rule `r` renamed to `name`."""
    text = path.read_text()
    return re.sub(r"\br\.(\w)", rf"{name}.\1", text.replace("@r exists@", f"@{name} exists@"))


def relative(line: str, root: Path) -> str:
    """Findings with paths relative to the corpus root, whichever way the tool prints them."""
    return line.replace(str(root) + os.sep, "").replace("./", "", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="one generated 2k-line file")
    parser.add_argument("--json", help="write the numbers and findings here")
    args = parser.parse_args()

    tmp = None
    if args.quick:
        tmp = tempfile.TemporaryDirectory(prefix="kvmlock-cocci-")
        root = Path(tmp.name)
        (root / "gen.c").write_text(generate(2000))
        paths = ["gen.c"]
        files = [root / "gen.c"]
        repeat = 1
    else:
        root = resolve_corpus(args.corpus)
        files = corpus_files(root)
        headers = sorted(p.relative_to(root) for p in (root / "include/linux").glob("kvm*.h"))
        paths = ["virt/kvm", "arch/x86/kvm", *map(str, headers)]
        repeat = args.repeat
    lines = sum(p.read_bytes().count(b"\n") for p in files)

    spatch = shutil.which("spatch")
    # Both rules in one semantic patch (rules renamed apart): one parse of each file.
    both_dir = tempfile.TemporaryDirectory(prefix="kvmlock-cocci-both-")
    both = Path(both_dir.name) / "both.cocci"
    both.write_text("\n".join(combined_rule(HERE / rule, f"r{i}") for i, rule in enumerate(RULES)))
    commands: dict[str, list[str] | None] = {}
    sp_files = [*((rule, HERE / rule) for rule in RULES), ("both rules in one file", both)]
    for rule, sp_file in sp_files:
        commands[f"spatch {rule}"] = (
            [
                spatch,
                "--sp-file",
                str(sp_file),
                "--jobs",
                str(args.jobs),
                "--include-headers",
                "--no-includes",
                "--very-quiet",
                "--dir",
                str(root),
            ]
            if spatch
            else None
        )
    base = [*kvmlock_command(), "check", "--no-color", "-j", str(args.jobs)]
    commands["kvmlock check (all checks, interprocedural)"] = [*base, *paths]
    commands["kvmlock check (all checks, --no-interprocedural)"] = [
        *base,
        "--no-interprocedural",
        *paths,
    ]

    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    found: dict[str, list[str]] = {}
    load = os.getloadavg()
    for _ in range(repeat):
        for name, cmd in commands.items():
            if cmd is None:
                continue
            wall, cpu, findings = timed(cmd, root)
            walls[name].append(wall)
            cpus[name].append(cpu)
            found[name] = [relative(f, root) for f in findings]

    rows = []
    for name, cmd in commands.items():
        if cmd is None:
            rows.append({"tool": name, "skipped": "spatch not installed"})
            continue
        rows.append(
            {
                "tool": name,
                "command": " ".join(Path(cmd[0]).name if i == 0 else c for i, c in enumerate(cmd)),
                "wall_s": round(min(walls[name]), 3),
                "walls_s": [round(w, 3) for w in walls[name]],
                "cpu_s": [round(c, 2) for c in cpus[name]],
                "findings": len(found[name]),
                "finding_lines": found[name],
            }
        )
    spatch_total = sum(
        r.get("wall_s", 0) for r in rows if r["tool"].startswith("spatch") and ".cocci" in r["tool"]
    )
    result = {"files": len(files), "lines": lines, "load": load, "rows": rows}
    print(f"{len(files)} files, {lines} lines; load {load[0]:.2f}; best of {repeat}")
    for r in rows:
        if "skipped" in r:
            print(f"  {r['tool']}: skipped ({r['skipped']})")
            continue
        print(
            f"  {r['tool']}: {r['wall_s']:.2f} s (runs {r['walls_s']}, CPU {r['cpu_s']}),"
            f" {r['findings']} findings"
        )
    if spatch_total:
        kvm = rows[-2]["wall_s"]
        result["spatch_both_rules_s"] = round(spatch_total, 3)
        result["spatch_over_kvmlock"] = round(spatch_total / kvm, 2)
        one = next(r for r in rows if r["tool"] == "spatch both rules in one file")["wall_s"]
        result["spatch_one_file_over_kvmlock"] = round(one / kvm, 2)
        print(
            f"  spatch, both rules: {spatch_total:.2f} s as two runs, {one:.2f} s in one file;"
            f" spatch / kvmlock (interprocedural) = {spatch_total / kvm:.2f} / {one / kvm:.2f}"
        )
    for r in rows:
        for line in r.get("finding_lines", []):
            if r["tool"].startswith("spatch") or re.search(r"\[(srcu-order|lock-order)\]", line):
                print(f"    {r['tool'].split(' (')[0]}: {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    both_dir.cleanup()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
