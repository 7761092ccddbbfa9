"""Shared pieces of the interprocedural tests (a uniquely named module: test directories are
not packages here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from kvmlock.analysis.engine import analyse_functions
from kvmlock.interproc.records import FileRecord, file_record
from kvmlock.interproc.summaries import SummaryIndex
from kvmlock.interproc.workspace import Workspace
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.syntax.document import parse_document

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "c" / "interproc"
RULES = builtin_rule_base()


def records(files: dict[str, str]) -> list[FileRecord]:
    """Records of in-memory files, {path: C text}, analysed with the built-in pack."""
    found = []
    for path, code in files.items():
        doc = parse_document(path, textwrap.dedent(code).encode())
        found.append(file_record(doc, analyse_functions(doc, RULES)))
    return found


def index_of(files: dict[str, str]) -> SummaryIndex:
    return SummaryIndex(records(files))


def workspace_findings(files: dict[str, str]):
    workspace = Workspace(lambda _path: RULES)
    for record in records(files):
        workspace.set_file(record)
    return workspace.findings()


def summary(index: SummaryIndex, path: str, name: str):
    (key,) = index.resolver.by_name(path, name)
    return index.summaries[key]


def check_json(*args: str | os.PathLike[str]) -> tuple[int, list[dict], str]:
    """`python -m kvmlock check ARGS --format json`, as a user runs it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "server"), env.get("PYTHONPATH", "")) if p
    )
    proc = subprocess.run(
        [sys.executable, "-m", "kvmlock", "check", *map(str, args), "--format", "json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(proc.stdout)["findings"] if proc.stdout else []
    return proc.returncode, findings, proc.stderr
