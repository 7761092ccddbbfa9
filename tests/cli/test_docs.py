"""docs/rules.md is generated from checks.toml, and each documented example does what the
documentation says, under the real analysis (per function and through calls, as
`kvmlock check` runs it) and the built-in rule pack."""

from __future__ import annotations

import pytest
from cli_helpers import REPO

from kvmlock.analysis.checks import registry
from kvmlock.docgen import DEFAULT_OUTPUT, generate
from kvmlock.docgen import main as docgen_main
from kvmlock.interproc.workspace import analyse_with_calls
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.rules.kinds import KINDS
from kvmlock.syntax.document import parse_document

CHECKS = list(registry().values())


def _rules_fired(snippet: str) -> list[str]:
    doc = parse_document("virt/kvm/doc_example.c", snippet.encode())
    return [f.rule for f in analyse_with_calls(doc, builtin_rule_base())]


def test_rules_md_is_generated_from_registry() -> None:
    assert DEFAULT_OUTPUT == REPO / "docs" / "rules.md"
    committed = DEFAULT_OUTPUT.read_text(encoding="utf-8")
    assert committed == generate(), "run: python -m kvmlock.docgen"
    assert docgen_main(["--check"]) == 0


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_every_check_is_documented(check) -> None:
    for name in ("title", "what", "why", "example", "fix", "suppress"):
        assert getattr(check, name).strip(), f"{check.id}: {name} is empty"
    named_kind = any(f"`{kind}`" in check.why for kind in KINDS)
    assert named_kind or "Not tied to a locking.rst rule" in check.why
    section = generate().split(f"\n## {check.id}\n", 1)[1].split("\n## ", 1)[0]
    assert f"`{check.severity}`" in section
    assert f"// kvmlock: ignore[{check.id}]" in section
    assert f"--ignore {check.id}" in section


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_example_fires_and_fix_does_not(check) -> None:
    assert check.id in _rules_fired(check.example)
    assert check.id not in _rules_fired(check.fix)
