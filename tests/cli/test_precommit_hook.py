"""The pre-commit hook definition (checked as text: no YAML parser is a dependency)."""

from __future__ import annotations

from cli_helpers import REPO


def test_hook_definition() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    fields = dict(
        line.strip().lstrip("- ").split(": ", 1)
        for line in text.splitlines()
        if ": " in line and not line.lstrip().startswith("#")
    )
    assert fields["id"] == "kvmlock"
    assert fields["entry"] == "kvmlock check"
    assert fields["language"] == "python"
    assert fields["types"] == "[c]"
    assert fields["files"] == r"\.(c|h)$"
