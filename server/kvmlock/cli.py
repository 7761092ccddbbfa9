"""The `kvmlock` command line: check C files, list the rule base.

Only argparse, os and sys are imported at module level: `kvmlock --version` and a one-file
check should not pay for tree-sitter, rich or the rules reader before they are needed.
Everything a worker process runs lives at module level so ProcessPoolExecutor can pickle it.

Exit status of `kvmlock check` (also in `kvmlock check --help`):

- 0: every file was checked; no errors or warnings (notes do not count: a note is a finding
  on some paths through a table call or a hint, not something to fail a build on).
- 1: every file was checked; there are errors or warnings.
- 2: the result is incomplete or there is none: a usage error, the report could not be
  written, a named path does not exist, or a file that is part of the checked tree could not
  be checked (unreadable, not UTF-8, binary, a dangling or looping symbolic link named *.c or
  *.h, a directory that cannot be listed, a checker error). Findings are still reported.

Some problems are reported as warnings and do not change the exit status, because nothing of
the tree goes unchecked: a symbolic link back to a directory being walked (a loop; its files
are checked once), a link loop not named *.c or *.h, a FIFO, socket or device named *.c (reading
it could wait forever), and a file deleted between discovery and reading (it is no longer part
of the tree). Every problem, error or warning, is one line on stderr starting with its path.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kvmlock.analysis.findings import Finding
    from kvmlock.interproc.records import FileRecord
    from kvmlock.rules.model import RuleBase
    from kvmlock.syntax.document import SourceDocument

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

SOURCE_SUFFIXES = (".c", ".h")
# Below this many files a progress bar is more flicker than help.
PROGRESS_MIN_FILES = 20
# Notes about the checker itself (a function it could not follow) are not code findings:
# they are shown, but do not fail a pre-commit run.
INFORMATIONAL_RULES = frozenset({"analysis-skipped"})
FAILING = frozenset({"error", "warning"})  # severities that make `kvmlock check` exit 1

EXIT_STATUS_HELP = """\
exit status:
  0  every file checked, no errors or warnings (notes alone do not fail)
  1  every file checked, errors or warnings
  2  incomplete: usage error, report not written, a named path missing, or a file of the
     tree not checked (unreadable, not UTF-8, binary, broken symbolic link, unlistable
     directory, checker error); findings are still reported

Warnings that leave the exit status alone (nothing of the tree goes unchecked): a symbolic
link looping back to a directory being walked, a special file (FIFO, socket, device) in a
walked directory, a file deleted between discovery and reading."""


class UsageError(Exception):
    """Bad command-line input discovered after argparse accepted it."""


# --- argument parsing ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from kvmlock import __version__

    parser = argparse.ArgumentParser(
        prog="kvmlock",
        description="Find locking mistakes in Linux KVM C code, citing the rule of "
        "Documentation/virt/kvm/locking.rst each one breaks.",
    )
    parser.add_argument("--version", action="version", version=f"kvmlock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser(
        "check",
        help="check C files and directories",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="files or directories (recursed for *.c and *.h); default: .",
    )
    check.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: 1 for one file, else one per CPU)",
    )
    check.add_argument(
        "--locking-rst",
        metavar="PATH",
        help="rules from this locking.rst instead of the one found from each "
        "file's kernel tree (or the built-in pack)",
    )
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report here")
    check.add_argument("--select", metavar="ID,...", help="run only these checks")
    check.add_argument("--ignore", metavar="ID,...", help="skip these checks")
    check.add_argument("--no-color", action="store_true", help="plain text output")
    check.add_argument(
        "--no-interprocedural",
        dest="interprocedural",
        action="store_false",
        help="check each function on its own: no findings through calls, no requires-held "
        "or order-cycle",
    )
    check.set_defaults(run=run_check)

    rules = sub.add_parser("rules", help="print the rule base that applies to PATH")
    rules.add_argument(
        "path",
        nargs="?",
        default=".",
        metavar="PATH",
        help="where to look for the kernel tree's locking.rst; default: .",
    )
    rules.add_argument("--locking-rst", metavar="PATH", help="read this locking.rst")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(run=run_rules)

    serve = sub.add_parser("serve", help="run the language server (LSP over stdio)")
    serve.add_argument("--log-file", metavar="PATH", help="also write the server log here")
    serve.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info"
    )
    serve.add_argument("--stdio", action="store_true", help="accepted for editor compatibility")
    serve.set_defaults(run=run_serve)
    return parser


def run_serve(args: argparse.Namespace) -> int:
    from kvmlock.lsp.server import serve

    return serve(log_file=args.log_file, log_level=args.log_level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.run(args))
    except SystemExit as exc:  # argparse's --version, --help and usage errors
        if exc.code is None:
            return EXIT_CLEAN
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"kvmlock: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kvmlock check | head`: the reader left; silence the flush at interpreter exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR


# --- check -----------------------------------------------------------------------------------


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    rules_source: str = ""
    rules_problems: tuple[str, ...] = ()
    record: FileRecord | None = None  # for the interprocedural pass
    # Not an error: the file was deleted between discovery and reading.
    warning: str | None = None
    # Line number -> text of the lines carrying `kvmlock:` (suppression comments), so the
    # parent applies them to findings through calls without reading the file again.
    marks: dict[int, bytes] = field(default_factory=dict)
    digest: bytes = b""  # of the bytes analysed: a later round checks the file is the same
    applied: dict = field(default_factory=dict)  # the call effects the analysis applied
    # Only these functions were analysed again (with new call effects): their findings and
    # records replace those of the first analysis.
    redone: frozenset[str] | None = None


def enabled_checks(select: str | None, ignore: str | None) -> frozenset[str] | None:
    """The check ids to run, or None for all of them; unknown ids are a usage error."""
    from kvmlock.analysis.checks import registry

    known = registry()

    def parse(option: str, value: str | None) -> set[str]:
        ids = {part.strip() for part in (value or "").split(",") if part.strip()}
        unknown = sorted(ids - set(known))
        if unknown:
            raise UsageError(
                f"{option}: unknown check id {', '.join(unknown)} (known: {', '.join(known)})"
            )
        return ids

    selected = parse("--select", select)
    ignored = parse("--ignore", ignore)
    if not selected and not ignored:
        return None
    return frozenset((selected or set(known)) - ignored)


def collect_files(
    paths: Sequence[str], errors: list[str], warnings: list[str] | None = None
) -> list[str]:
    """Files to check, in a stable order. Named files are taken as they are; directories are
    searched for *.c and *.h, skipping hidden directories and never entering one twice.
    Problems go to `errors` (something of the tree will not be checked) or `warnings`
    (nothing is lost), one line each, starting with the path."""
    if warnings is None:
        warnings = []
    files: list[str] = []
    walk = _Walk(errors, warnings)
    seen_files: set[str] = set()
    for raw in paths:
        path = os.path.normpath(raw)
        if os.path.isdir(path):
            found = walk.directory(path, ())
        elif os.path.lexists(path):
            found = iter([path])  # even a broken link: check_file says what is wrong with it
        else:
            errors.append(f"{raw}: error: no such file or directory")
            continue
        for name in found:
            if name not in seen_files:
                seen_files.add(name)
                files.append(name)
    return files


@dataclass
class _Walk:
    """Directory search. Symlinked directories are followed (kernel trees use a few), but
    each directory is identified by (device, inode) and entered once: a link back up the
    tree is reported and not followed, a second way into a directory is simply not taken."""

    errors: list[str]
    warnings: list[str]
    seen: set[tuple[int, int]] = field(default_factory=set)

    def directory(self, top: str, ancestors: tuple[tuple[int, int], ...]) -> Iterator[str]:
        try:
            info = os.stat(top)
        except OSError as exc:
            self.errors.append(f"{top}: error: {exc.strerror or exc}, not checked")
            return
        key = (info.st_dev, info.st_ino)
        if key in ancestors:
            self.warnings.append(f"{top}: warning: symbolic link loop, not followed")
            return
        if key in self.seen:
            return
        self.seen.add(key)
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda entry: entry.name)
        except OSError as exc:
            self.errors.append(f"{top}: error: {exc.strerror or exc}, directory not checked")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            source = entry.name.endswith(SOURCE_SUFFIXES)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError as exc:  # a link loop (a -> b -> a), a target we may not stat
                if source:
                    yield entry.path  # check_file reports it as the error it is
                else:
                    self.warnings.append(
                        f"{entry.path}: warning: {exc.strerror or exc}, not followed"
                    )
                continue
            if is_dir:
                yield from self.directory(entry.path, (*ancestors, key))
            elif not source:
                continue
            elif is_file or entry.is_symlink():  # a dangling link: check_file reports it
                yield entry.path
            else:  # reading a FIFO would wait for a writer forever
                self.warnings.append(
                    f"{entry.path}: warning: not a regular file (FIFO, socket or device), "
                    "not checked"
                )


def check_file(job: tuple) -> FileResult:
    """Worker: read, parse and analyse one file. Never raises for a bad input file.
    With `interprocedural`, also send back the file's record for the workspace index.
    `job`: (path, locking_rst, enabled, interprocedural[, call effects, names]): with
    `names`, only the functions whose text names one of them are analysed (again)."""
    path, locking_rst, enabled, interprocedural = job[:4]
    call_effects, names, digest = (*job[4:7], None, None, None)[:3]
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except FileNotFoundError as exc:
        if not os.path.lexists(path):  # not a dangling link: nothing is there any more
            return FileResult(path, warning="deleted during the run, not checked")
        return FileResult(path, error=exc.strerror or str(exc))
    except OSError as exc:
        return FileResult(path, error=exc.strerror or str(exc))
    if b"\0" in source:
        return FileResult(path, error="binary file, not checked")
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileResult(path, error=f"not valid UTF-8 (byte {exc.start}), not checked")

    from pathlib import Path

    from kvmlock.analysis.engine import analyse_functions, unsuppressed
    from kvmlock.rules.discover import load_rules
    from kvmlock.syntax.document import parse_document

    rules = load_rules(Path(locking_rst) if locking_rst else None, near=Path(path))
    try:
        doc = parse_document(path, source)
        if names is not None:
            if digest is not None and _digest(source) != digest:
                return FileResult(path, warning="changed during the run")
            return _check_again(doc, rules, enabled, call_effects, names)
        record = None
        applied: dict = {}
        if interprocedural:
            from kvmlock.interproc.records import file_record
            from kvmlock.interproc.settle import analyse_settled

            settled, applied = analyse_settled(doc, rules, enabled, call_effects or {})
            results = [r for r in settled if r is not None]
            record = file_record(doc, results)
        else:
            results = analyse_functions(doc, rules, enabled)
        findings = unsuppressed(source, [f for r in results for f in r.findings])
    except RecursionError:
        return FileResult(path, error="too deeply nested to analyse, not checked")
    except Exception as exc:  # one file tripping a checker bug must not lose the others
        if os.environ.get("KVMLOCK_DEBUG"):
            raise
        return FileResult(
            path,
            error=f"internal error ({type(exc).__name__}: {exc}); set KVMLOCK_DEBUG=1 "
            "for a traceback and please report it",
        )
    return FileResult(
        path,
        findings,
        None,
        rules.source,
        tuple(rules.problems),
        record,
        marks=_marks(source),
        digest=_digest(source) if interprocedural else b"",
        applied=applied,
    )


def _digest(source: bytes) -> bytes:
    import hashlib

    return hashlib.blake2b(source, digest_size=16).digest()


def _check_again(
    doc: SourceDocument,
    rules: RuleBase,
    enabled: frozenset[str] | None,
    call_effects: dict,
    names: frozenset[str],
) -> FileResult:
    """The functions of `doc` that call one of `names` (by name, twins together), analysed
    with `call_effects`, and the file's callers of those whose effect then changed."""
    from kvmlock.analysis.engine import unsuppressed
    from kvmlock.interproc.records import FileRecord, some_records
    from kvmlock.interproc.settle import analyse_settled

    settled, applied = analyse_settled(doc, rules, enabled, call_effects, names)
    redone = frozenset(fn.name for fn, r in zip(doc.functions, settled, strict=True) if r)
    findings = unsuppressed(doc.source, [f for r in settled if r for f in r.findings])
    record = FileRecord(doc.path, some_records(doc, settled), ())
    return FileResult(doc.path, findings, None, rules.source, tuple(rules.problems), record,
                      marks=_marks(doc.source), redone=redone, applied=applied)


def _marks(source: bytes) -> dict[int, bytes]:
    if b"kvmlock:" not in source:
        return {}
    return {
        number: line
        for number, line in enumerate(source.split(b"\n"), start=1)
        if b"kvmlock:" in line
    }


def _rules_line(source: str) -> str:
    if source.startswith("built-in"):
        return f"kvmlock: no locking.rst found above the checked files; rules: {source}"
    return f"kvmlock: rules: {source}"


def default_jobs(requested: int | None, files: int) -> int:
    if requested is not None and requested > 0:
        return min(requested, max(files, 1))
    if files <= 1:
        return 1
    return max(1, min(os.cpu_count() or 1, files))


def run_check(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or more")
    if args.locking_rst and not os.path.isfile(args.locking_rst):
        raise UsageError(f"--locking-rst {args.locking_rst}: no such file")
    enabled = enabled_checks(args.select, args.ignore)

    errors: list[str] = []
    warnings: list[str] = []
    files = collect_files(args.paths, errors, warnings)
    locking_rst = os.path.abspath(args.locking_rst) if args.locking_rst else None
    jobs = [(path, locking_rst, enabled, args.interprocedural) for path in files]
    through_calls: list[Finding] = []
    if args.interprocedural:
        from kvmlock.interproc.workspace import cyclic_gc_paused

        # Paused until the findings through calls are in: collections in between only
        # rescan the received records (~0.03 s CPU of the pass's ~0.3 s).
        with cyclic_gc_paused(), _Workers(default_jobs(args.jobs, len(files))) as workers:
            results = list(workers.run(jobs))
            through_calls = _through_calls(results, jobs, workers, locking_rst, enabled)
    else:
        with _Workers(default_jobs(args.jobs, len(files))) as workers:
            results = list(workers.run(jobs))

    findings: list[Finding] = []
    problems: dict[str, None] = {}
    for result in results:
        if result.error is not None:
            errors.append(f"{result.path}: error: {result.error}")
            continue
        if result.warning is not None:
            warnings.append(f"{result.path}: warning: {result.warning}")
            continue
        findings.extend(result.findings)
        for problem in result.rules_problems:
            problems.setdefault(f"kvmlock: warning: {result.rules_source}: {problem}")
    findings.extend(through_calls)
    findings.sort(key=lambda f: f.sort_key())

    sources = sorted({r.rules_source for r in results if r.rules_source})
    for line in [*problems, *errors, *warnings, *(_rules_line(source) for source in sources)]:
        print(line, file=sys.stderr)
    if not _write_report(args, findings, errors, warnings):
        return EXIT_ERROR
    _print_summary(findings, len(files), len(errors))
    if errors:
        return EXIT_ERROR
    failing = [
        f for f in findings if f.rule not in INFORMATIONAL_RULES and f.severity in FAILING
    ]
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def _through_calls(
    results: list[FileResult],
    jobs: list[tuple],
    workers: _Workers,
    locking_rst: str | None,
    enabled: frozenset[str] | None,
) -> list[Finding]:
    """The interprocedural pass over every file the workers indexed. Files whose calls
    reach functions that release their caller's locks or return holding some are analysed
    again with those effects applied (`results` is updated in place), until no call's
    effect changes."""
    from functools import cache
    from pathlib import Path

    from kvmlock.analysis.engine import unsuppressed
    from kvmlock.interproc.settle import MAX_EFFECT_ROUNDS, changed_effects
    from kvmlock.interproc.workspace import Workspace
    from kvmlock.rules.discover import load_rules

    # One rule base per directory: discovery walks up from there, and paths repeat a lot.
    @cache
    def rules_in(directory: str) -> RuleBase:
        return load_rules(Path(locking_rst) if locking_rst else None, near=Path(directory))

    @cache  # asked once per function and call site
    def rules_for(path: str) -> RuleBase:
        return rules_in(os.path.dirname(path) or ".")

    workspace = Workspace(rules_for, enabled)
    for result in results:
        if result.record is not None:
            workspace.set_file(result.record)
    applied = {r.path: r.applied for r in results if r.record is not None}
    for _ in range(MAX_EFFECT_ROUNDS):
        again = []
        changed: dict[int, frozenset[str]] = {}
        for i, result in enumerate(results):
            if result.record is not None:
                effects = workspace.call_effects(result.path)
                called = workspace.called_names(result.path)
                before = {n: e for n, e in applied[result.path].items() if n in called}
                if effects != before:
                    applied[result.path] = effects
                    changed[i] = changed_effects(before, effects)
                    again.append(i)
        if not again:
            break
        redo = [
            (*jobs[i][:4], applied[results[i].path], changed[i], results[i].digest)
            for i in again
        ]
        for i, result in zip(again, workers.run(redo, quiet=True), strict=True):
            results[i] = _merged(results[i], result)
            if results[i].record is not None:
                workspace.set_file(results[i].record)
                applied[result.path] = result.applied or applied[result.path]
    marks = {result.path: result.marks for result in results if result.record is not None}
    by_path: dict[str, list[Finding]] = {}
    for finding in workspace.findings():
        by_path.setdefault(finding.path, []).append(finding)
    kept: list[Finding] = []
    for path, found in by_path.items():
        # The suppression comments as the worker read them (the file may have changed or
        # gone since): the marked lines in place, every other line empty.
        lines = marks.get(path, {})
        text = b"\n".join(lines.get(n, b"") for n in range(1, max(lines, default=0) + 1))
        kept.extend(unsuppressed(text, found))
    return kept


def _merged(first: FileResult, again: FileResult) -> FileResult:
    """A file's result with some functions analysed again (`again.redone`)."""
    from kvmlock.interproc.records import merged

    if again.redone is None or first.record is None or again.record is None:
        # Gone or changed since the first reading: the first analysis stands.
        return first
    findings = [f for f in first.findings if f.function not in again.redone] + again.findings
    record = merged(first.record, again.record.functions)
    return FileResult(first.path, findings, None, first.rules_source, first.rules_problems,
                      record, first.warning, first.marks, first.digest, again.applied)


class _Workers:
    """The worker processes of one run, started on first use and kept for the rounds of the
    interprocedural pass (a pool costs a fork per worker and the imports)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = None

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def run(self, jobs: list, quiet: bool = False) -> Iterator[FileResult]:
        progress = _NoProgress() if quiet else _progress(len(jobs))
        try:
            if self.workers <= 1 or len(jobs) <= 1:
                for result in map(check_file, jobs):
                    progress.advance()
                    yield result
                return
            # Biggest files first, one per task: the last task to finish is then a small
            # file, not x86.c started late on one worker while the other has nothing left.
            order = sorted(range(len(jobs)), key=lambda i: -_size(jobs[i][0]))
            results: list[FileResult | None] = [None] * len(jobs)
            done = self._started(jobs[0][3]).map(check_file, [jobs[i] for i in order])
            for i, result in zip(order, done, strict=True):
                progress.advance()
                results[i] = result
            yield from results  # type: ignore[misc]  # every slot is filled, in order
        finally:
            progress.close()

    def _started(self, interprocedural: bool):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            if multiprocessing.get_context().get_start_method() == "fork":
                _warm_up(interprocedural=interprocedural)
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        return self._pool


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _warm_up(interprocedural: bool) -> None:
    """Import what check_file runs before the workers are forked: they inherit it instead
    of each importing it again (~0.25 s per worker). The interprocedural pass needs the same
    modules in this process afterwards anyway."""
    import kvmlock.analysis.engine
    import kvmlock.rules.discover
    import kvmlock.syntax.document

    if interprocedural:
        import kvmlock.interproc.records
        import kvmlock.interproc.workspace  # noqa: F401


class _NoProgress:
    def advance(self) -> None:
        pass

    def close(self) -> None:
        pass


class _RichProgress:
    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("checking"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._progress.add_task("check", total=total)
        self._progress.start()

    def advance(self) -> None:
        self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()


def _progress(total: int) -> _NoProgress | _RichProgress:
    if total >= PROGRESS_MIN_FILES and sys.stderr.isatty():
        return _RichProgress(total)
    return _NoProgress()


def _write_report(
    args: argparse.Namespace, findings: list[Finding], errors: list[str], warnings: list[str]
) -> bool:
    if args.format == "json":
        import json

        from kvmlock.output.json_format import render_json

        report = json.dumps(render_json(findings), indent=2) + "\n"
    elif args.format == "sarif":
        import json

        from kvmlock.output.sarif import render_sarif

        report = json.dumps(render_sarif(findings, errors, warnings=warnings), indent=2) + "\n"
    else:
        from kvmlock.output.text import render_text

        report = render_text(findings, color=_use_color(args))
    if args.output is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return True
    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(report)
    except OSError as exc:
        print(f"{args.output}: error: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _use_color(args: argparse.Namespace) -> bool:
    if args.no_color or args.output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _print_summary(findings: list[Finding], files: int, errors: int) -> None:
    from kvmlock.output.text import summary_line

    print(summary_line(findings, files, errors), file=sys.stderr)


# --- rules -----------------------------------------------------------------------------------


def run_rules(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.locking_rst and not os.path.isfile(args.locking_rst):
        raise UsageError(f"--locking-rst {args.locking_rst}: no such file")
    from kvmlock.rules.discover import load_rules
    from kvmlock.rules.render import render_json, render_text

    locking_rst = Path(args.locking_rst) if args.locking_rst else None
    rb = load_rules(locking_rst, near=Path(args.path))
    # Both renderings already say where the rules came from (the `source` path, or the
    # built-in pack with `builtin: true`), so nothing is added here.
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(render_json(rb), indent=2) + "\n")
    else:
        text = render_text(rb)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_CLEAN


if __name__ == "__main__":
    raise SystemExit(main())
