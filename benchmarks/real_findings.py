"""Every finding of `kvmlock check` on a real kernel tree, held against a committed verdict file.

    python benchmarks/real_findings.py [--corpus DIR] [--tree linux-6.1] [--json [FILE]]
    python benchmarks/real_findings.py --update-template > stubs.toml   # then judge by hand

Project rule: every finding on a real tree is read in the code and judged true or false, with
the reason, in benchmarks/verdicts/<tree>.toml. For each check set of a tree (a list of
directories, checked together from the tree root so paths are relative) this runs
`kvmlock check --format json -j 2` and matches every finding with a verdict by its key:

    set, check id, path, enclosing function, normalised message

The message is normalised so that line shifts and unrelated edits keep the key: the citation
tail (" — locking.rst line 12, ...": the rule id already names the check, and locking.rst text
stays out of the repository) is cut, "line 4099" becomes "line N" and "x86.c:2979" becomes
"x86.c:N". Findings that share a key are counted: a verdict's `count` (default 1) says how many
findings it judges.

Verdicts are "true" (a real locking mistake), "false" (the code is right) or "debatable" (the
code breaks the letter of locking.rst but whether it is a bug is open). Debatable is its own
column; for failing it counts as false.

Exit status: 0 when every finding is judged and no true finding has disappeared; 1 when a
finding has no verdict (or more findings share a key than its `count`), or a verdict judged
true matches fewer findings than its `count` (a true finding disappeared); 2 when the checker
or the verdict file could not be used. False and debatable verdicts that match nothing any more
are listed as "gone (fine)". `--update-template` prints TOML stubs for the unjudged findings to
stdout (the table goes to stderr); it never writes a verdict: the stubs say verdict = "TODO",
which the loader refuses until someone has read the code and judged.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "server"
VERDICTS_DIR = ROOT / "benchmarks" / "verdicts"
sys.path.insert(0, str(SERVER))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402

VERDICTS = ("true", "false", "debatable")
SEVERITIES = {"error": "errors", "warning": "warnings", "info": "notes"}
JOBS = 2


@dataclass(frozen=True)
class TreeConfig:
    name: str
    # Check sets: name -> directories relative to the tree root, checked in one run.
    sets: dict[str, tuple[str, ...]]
    # The tree root when --corpus is not given (may fetch it).
    default_root: Callable[[], Path]

    @property
    def verdict_file(self) -> Path:
        return VERDICTS_DIR / f"{self.name}.toml"


SETS = {
    "virt+x86": ("virt/kvm", "arch/x86/kvm"),
    "virt+arm64": ("virt/kvm", "arch/arm64/kvm"),
}
# One tree per Debian release benchmarks/corpus.py can fetch.
TREES: dict[str, TreeConfig] = {
    f"linux-{release}": TreeConfig(
        name=f"linux-{release}",
        sets=SETS,
        default_root=lambda release=release: corpus.obtain(release=release),
    )
    for release in corpus.RELEASES
}


class VerdictFileError(Exception):
    """The verdict file cannot be used (syntax, a missing field, a bad value, a duplicate)."""


# --- keys ------------------------------------------------------------------------------------

# The citation the checker appends: " — locking.rst line 12, "1. Acquisition Orders": ...".
_CITATION = re.compile(r"\s+—\s+\S*\.rst line \d+.*\Z", re.S)
_FILE_LINE = re.compile(r"\b([\w.+-]+\.[ch]):\d+\b")
_LINE = re.compile(r"\bline \d+\b")
_SPACE = re.compile(r"\s+")


def normalise(message: str) -> str:
    """The message without its citation tail and with every line number replaced by N."""
    text = _CITATION.sub("", message)
    text = _FILE_LINE.sub(r"\1:N", text)
    text = _LINE.sub("line N", text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, order=True)
class Key:
    set: str
    check: str
    path: str
    function: str
    message: str

    def short(self) -> str:
        return f"[{self.set}] {self.check} {self.path}:{self.function or '<file scope>'}"


@dataclass(frozen=True)
class Finding:
    """One finding of one run, with the function it is in."""

    set: str
    check: str
    severity: str
    path: str
    line: int
    function: str
    message: str

    @property
    def key(self) -> Key:
        return Key(self.set, self.check, self.path, self.function, normalise(self.message))

    def where(self) -> str:
        return f"{self.path}:{self.line} ({self.function or '<file scope>'})"


@dataclass(frozen=True)
class Verdict:
    key: Key
    verdict: str
    reason: str
    count: int = 1


# --- the verdict file ------------------------------------------------------------------------

_FIELDS = ("set", "check", "path", "function", "message", "verdict", "reason")


def parse_verdicts(text: str, known_sets: Iterable[str] | None = None) -> list[Verdict]:
    """The [[finding]] entries of a verdict file; VerdictFileError names what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VerdictFileError(f"not TOML: {exc}") from exc
    entries = data.get("finding", [])
    if not isinstance(entries, list):
        raise VerdictFileError("`finding` must be an array of tables ([[finding]])")
    sets = set(known_sets) if known_sets is not None else None
    out: list[Verdict] = []
    seen: dict[Key, int] = {}
    for number, entry in enumerate(entries, 1):
        where = f"[[finding]] #{number}"
        missing = [name for name in _FIELDS if not isinstance(entry.get(name), str)]
        if missing:
            raise VerdictFileError(f"{where}: missing or not a string: {', '.join(missing)}")
        unknown = sorted(set(entry) - set(_FIELDS) - {"count"})
        if unknown:
            raise VerdictFileError(f"{where}: unknown field(s) {', '.join(unknown)}")
        if entry["verdict"] not in VERDICTS:
            raise VerdictFileError(
                f"{where}: verdict = {entry['verdict']!r}; judge it: one of {', '.join(VERDICTS)}"
            )
        if not entry["reason"].strip():
            raise VerdictFileError(f"{where}: the reason is empty")
        count = entry.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise VerdictFileError(f"{where}: count must be a positive integer")
        if sets is not None and entry["set"] not in sets:
            raise VerdictFileError(
                f"{where}: set {entry['set']!r} is not a check set of this tree "
                f"({', '.join(sorted(sets))})"
            )
        if normalise(entry["message"]) != entry["message"]:
            raise VerdictFileError(
                f"{where}: message is not normalised; use {normalise(entry['message'])!r}"
            )
        key = Key(entry["set"], entry["check"], entry["path"], entry["function"], entry["message"])
        if key in seen:
            raise VerdictFileError(
                f"{where}: same key as #{seen[key]}; use one entry with count = N"
            )
        seen[key] = number
        out.append(Verdict(key, entry["verdict"], entry["reason"].strip(), count))
    return out


def load_verdicts(path: Path, known_sets: Iterable[str] | None = None) -> list[Verdict]:
    if not path.is_file():
        return []
    try:
        return parse_verdicts(path.read_text(encoding="utf-8"), known_sets)
    except VerdictFileError as exc:
        raise VerdictFileError(f"{path}: {exc}") from exc


# --- comparison ------------------------------------------------------------------------------


@dataclass
class SetCounts:
    errors: int = 0
    warnings: int = 0
    notes: int = 0
    true: int = 0
    false: int = 0
    debatable: int = 0
    unjudged: int = 0


@dataclass(frozen=True)
class Unjudged:
    key: Key
    findings: tuple[Finding, ...]  # those beyond the verdict's count, or all of them
    judged: int  # how many findings of this key a verdict already covers (its count)


@dataclass(frozen=True)
class Missing:
    verdict: Verdict
    found: int  # findings still matching; verdict.count - found have disappeared


@dataclass
class Comparison:
    sets: dict[str, SetCounts] = field(default_factory=dict)
    unjudged: list[Unjudged] = field(default_factory=list)
    vanished_true: list[Missing] = field(default_factory=list)
    gone: list[Missing] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unjudged and not self.vanished_true


def compare(
    findings: Iterable[Finding], verdicts: Iterable[Verdict], sets: Iterable[str] = ()
) -> Comparison:
    """Match findings with verdicts by key, `count` findings per verdict."""
    result = Comparison(sets={name: SetCounts() for name in sets})
    grouped: dict[Key, list[Finding]] = defaultdict(list)
    for f in findings:
        grouped[f.key].append(f)
        counts = result.sets.setdefault(f.set, SetCounts())
        attr = SEVERITIES.get(f.severity, "notes")
        setattr(counts, attr, getattr(counts, attr) + 1)
    by_key = {v.key: v for v in verdicts}
    for key in sorted(grouped):
        found = sorted(grouped[key], key=lambda f: f.line)
        verdict = by_key.get(key)
        judged = min(len(found), verdict.count) if verdict else 0
        counts = result.sets[key.set]
        if verdict is not None:
            setattr(counts, verdict.verdict, getattr(counts, verdict.verdict) + judged)
        if len(found) > judged:
            counts.unjudged += len(found) - judged
            result.unjudged.append(
                Unjudged(key, tuple(found[judged:]), verdict.count if verdict else 0)
            )
    for verdict in sorted(by_key.values(), key=lambda v: v.key):
        present = len(grouped.get(verdict.key, ()))
        if present < verdict.count:
            missing = Missing(verdict, present)
            (result.vanished_true if verdict.verdict == "true" else result.gone).append(missing)
    return result


# --- running the checker ---------------------------------------------------------------------


def kvmlock_command() -> list[str]:
    """This checkout's checker (PYTHONPATH is set to its server/ by run_check)."""
    return [sys.executable, "-m", "kvmlock"]


def run_check(root: Path, paths: Iterable[str], jobs: int = JOBS) -> list[dict]:
    """The JSON findings of `kvmlock check` run from `root` on `paths` (relative)."""
    paths = list(paths)
    absent = [p for p in paths if not (root / p).is_dir()]
    if absent:
        raise SystemExit(f"real_findings: {root} has no {', '.join(absent)}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SERVER)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    cmd = [*kvmlock_command(), "check", "--format", "json", "-j", str(jobs), *paths]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"real_findings: `{' '.join(cmd)}` in {root} exited {proc.returncode}:\n"
            f"{proc.stderr[-3000:]}"
        )
    report = json.loads(proc.stdout)
    if report.get("version") != 1:
        raise SystemExit(f"real_findings: unknown JSON report version {report.get('version')}")
    return report["findings"]


class FunctionFinder:
    """The function definition enclosing a line, from kvmlock's own function index."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._spans: dict[str, list[tuple[int, int, str]]] = {}

    def spans(self, path: str) -> list[tuple[int, int, str]]:
        if path not in self._spans:
            from kvmlock.syntax.document import parse_file

            doc = parse_file(str(self.root / path))
            self._spans[path] = [
                (fn.start_line, doc.line_col(max(fn.end_byte - 1, fn.start_byte))[0], fn.name)
                for fn in doc.functions
            ]
        return self._spans[path]

    def __call__(self, path: str, line: int) -> str:
        inside = [(end - start, name) for start, end, name in self.spans(path)
                  if start <= line <= end]
        return min(inside)[1] if inside else ""


def tree_findings(tree: TreeConfig, root: Path) -> list[Finding]:
    finder = FunctionFinder(root)
    out: list[Finding] = []
    for set_name, paths in tree.sets.items():
        for raw in run_check(root, paths):
            out.append(
                Finding(
                    set=set_name,
                    check=raw["rule"],
                    severity=raw["severity"],
                    path=raw["path"],
                    line=raw["line"],
                    function=finder(raw["path"], raw["line"]),
                    message=raw["message"],
                )
            )
    return out


# --- reporting -------------------------------------------------------------------------------

COLUMNS = ("errors", "warnings", "notes", "true", "false", "debatable", "unjudged")


def table(rows: list[tuple[str, str, SetCounts]]) -> str:
    lines = [
        "| tree | set | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---:|" * len(COLUMNS),
    ]
    for tree, set_name, counts in rows:
        values = " | ".join(str(getattr(counts, c)) for c in COLUMNS)
        lines.append(f"| {tree} | {set_name} | {values} |")
    return "\n".join(lines)


def problems(tree: str, result: Comparison) -> list[str]:
    """The loud part: what fails the run, then what is merely gone."""
    out: list[str] = []
    if result.unjudged:
        total = sum(len(u.findings) for u in result.unjudged)
        out.append(f"FAIL {tree}: {total} finding(s) without a verdict:")
        for u in result.unjudged:
            extra = f" (a verdict judges {u.judged}; raise its count)" if u.judged else ""
            for f in u.findings:
                out.append(f"  UNJUDGED {f.set} {f.check} {f.where()}{extra}: {u.key.message}")
    if result.vanished_true:
        out.append(f"FAIL {tree}: true finding(s) no longer reported:")
        for m in result.vanished_true:
            v = m.verdict
            out.append(
                f"  VANISHED {v.key.short()}: {v.count - m.found} of {v.count} gone: "
                f"{v.key.message}"
            )
    for m in result.gone:
        v = m.verdict
        out.append(
            f"gone (fine) {tree}: {v.key.short()} [{v.verdict}] {v.count - m.found} of "
            f"{v.count}: {v.key.message}"
        )
    return out


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is JSON-compatible


def template(result: Comparison) -> str:
    """TOML stubs for the unjudged findings; verdict = "TODO" until judged by hand."""
    blocks: list[str] = []
    for u in result.unjudged:
        lines = ", ".join(str(f.line) for f in u.findings)
        severity = u.findings[0].severity
        if u.judged:
            blocks.append(
                f"# {u.key.short()}: an entry judges {u.judged}, {u.judged + len(u.findings)} "
                f"found now (lines {lines}): read them, then raise its count\n"
            )
            continue
        count = f"count = {len(u.findings)}\n" if len(u.findings) > 1 else ""
        blocks.append(
            f"# {u.findings[0].path} line(s) {lines}, {severity}\n"
            "[[finding]]\n"
            f"set = {_toml_string(u.key.set)}\n"
            f"check = {_toml_string(u.key.check)}\n"
            f"path = {_toml_string(u.key.path)}\n"
            f"function = {_toml_string(u.key.function)}\n"
            f"message = {_toml_string(u.key.message)}\n"
            f"{count}"
            'verdict = "TODO"  # true | false | debatable, after reading the code\n'
            'reason = ""\n'
        )
    return "\n".join(blocks)


def summary(tree: TreeConfig, root: Path, result: Comparison) -> dict:
    return {
        "tree": tree.name,
        "corpus": str(root),
        "verdict_file": str(tree.verdict_file.relative_to(ROOT)),
        "ok": result.ok,
        "sets": {name: asdict(counts) for name, counts in result.sets.items()},
        "unjudged": [
            {**asdict(f), "key_message": u.key.message} for u in result.unjudged
            for f in u.findings
        ],
        "vanished_true": [
            {**asdict(m.verdict.key), "count": m.verdict.count, "found": m.found}
            for m in result.vanished_true
        ],
        "gone": [
            {**asdict(m.verdict.key), "verdict": m.verdict.verdict, "count": m.verdict.count,
             "found": m.found}
            for m in result.gone
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    corpus.add_corpus_argument(parser)
    parser.add_argument("--tree", choices=sorted(TREES), help="only this tree (default: all)")
    parser.add_argument(
        "--update-template",
        action="store_true",
        help="print TOML stubs for unjudged findings on stdout (never writes verdicts)",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="machine-readable summary: to FILE, or to stdout (the table then goes to stderr)",
    )
    args = parser.parse_args(argv)
    trees = [TREES[args.tree]] if args.tree else list(TREES.values())
    if args.corpus is not None and len(trees) > 1:
        parser.error("--corpus needs --tree when more than one tree is configured")
    json_stdout = args.json == "-"
    human = sys.stderr if (json_stdout or args.update_template) else sys.stdout

    rows: list[tuple[str, str, SetCounts]] = []
    loud: list[str] = []
    summaries: list[dict] = []
    stubs: list[str] = []
    ok = True
    for tree in trees:
        try:
            verdicts = load_verdicts(tree.verdict_file, tree.sets)
        except VerdictFileError as exc:
            print(f"real_findings: {exc}", file=sys.stderr)
            return 2
        root = args.corpus if args.corpus is not None else tree.default_root()
        result = compare(tree_findings(tree, root), verdicts, tree.sets)
        rows.extend((tree.name, name, counts) for name, counts in result.sets.items())
        loud.extend(problems(tree.name, result))
        summaries.append(summary(tree, root, result))
        if result.unjudged:
            stubs.append(f"# --- {tree.name}: paste into {tree.verdict_file.relative_to(ROOT)}")
            stubs.append(template(result))
        ok = ok and result.ok

    print(table(rows), file=human)
    if loud:
        print("\n" + "\n".join(loud), file=sys.stderr if not ok else human)
    report = {"ok": ok, "trees": summaries}
    if args.json and not json_stdout:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    elif json_stdout:
        print(json.dumps(report, indent=2))
    if args.update_template:
        print("\n".join(stubs) if stubs else "# every finding has a verdict")
    if not ok:
        failing = sum(
            len(t["unjudged"]) + len(t["vanished_true"]) for t in summaries
        )
        print(f"\nreal_findings: FAILED ({failing} problem(s) above)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
