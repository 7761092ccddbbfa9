"""examples/: one file per check, run through the real command line."""

from __future__ import annotations

import json

import pytest
from cli_helpers import EXAMPLES, run_subprocess

from kvmlock.analysis.checks import registry


def test_one_example_per_check() -> None:
    names = {p.stem for p in EXAMPLES.glob("*.c")}
    assert names == {c.replace("-", "_") for c in registry()} | {"clean"}
    for path in EXAMPLES.glob("*.c"):
        head = path.read_text(encoding="utf-8").split("*/", 1)[0]
        assert "/*" in head, f"{path.name} should open with a comment saying what it shows"


@pytest.mark.parametrize("check_id", list(registry()))
def test_example_file_triggers_its_check(check_id: str) -> None:
    name = check_id.replace("-", "_") + ".c"
    run = run_subprocess("check", f"examples/{name}", "--format", "json")
    assert run.code == 1, run.err
    findings = json.loads(run.out)["findings"]
    assert check_id in {f["rule"] for f in findings}
    assert all(f["path"] == f"examples/{name}" for f in findings)


def test_clean_example_is_clean() -> None:
    run = run_subprocess("check", "examples/clean.c", "--format", "json")
    assert run.code == 0, run.out + run.err
    assert json.loads(run.out) == {"version": 1, "findings": []}
