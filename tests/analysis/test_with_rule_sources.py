"""The analysis with rules from a real reader: the built-in pack, a kernel-style tree of ours,
and (when present on this machine) the real KVM sources of the benchmark corpus."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from kvmlock.analysis.engine import analyse_document
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.rules.discover import load_rules
from kvmlock.syntax.document import parse_document

ORDER_BUG = textwrap.dedent("""\
    static int set_thing(struct kvm_vcpu *vcpu)
    {
    	mutex_lock(&vcpu->mutex);
    	mutex_lock(&vcpu->kvm->lock);
    	mutex_unlock(&vcpu->kvm->lock);
    	mutex_unlock(&vcpu->mutex);
    	return 0;
    }
""").encode()


def test_message_cites_builtin_rule():
    findings = analyse_document(parse_document("virt/kvm/a.c", ORDER_BUG), builtin_rule_base())
    assert [f.rule for f in findings] == ["lock-order"]
    message = findings[0].message
    assert message.startswith("mutex_lock(&vcpu->kvm->lock) while holding vcpu->mutex (line 3) — ")
    assert "kvm->lock is taken outside vcpu->mutex" in message
    citation = findings[0].citation
    assert citation is not None and "Acquisition Orders" in citation.section
    assert f"locking.rst line {citation.line}" in message


def test_rules_follow_the_tree_being_checked(tmp_path: Path):
    """A tree whose locking.rst documents the opposite order flips the finding."""
    doc_dir = tmp_path / "Documentation" / "virt" / "kvm"
    doc_dir.mkdir(parents=True)
    (doc_dir / "locking.rst").write_text(textwrap.dedent("""\
        =================
        KVM Lock Overview
        =================

        1. Acquisition Orders
        ---------------------

        The acquisition orders for mutexes are as follows:

        - vcpu->mutex is taken outside kvm->lock
    """))
    source = tmp_path / "virt" / "kvm" / "a.c"
    source.parent.mkdir(parents=True)
    source.write_bytes(ORDER_BUG)
    rules = load_rules(None, source)
    assert not rules.builtin
    findings = analyse_document(parse_document(str(source), ORDER_BUG), rules)
    assert findings == []
    reverse = ORDER_BUG.replace(b"&vcpu->mutex", b"&TMP").replace(
        b"&vcpu->kvm->lock", b"&vcpu->mutex").replace(b"&TMP", b"&vcpu->kvm->lock")
    flipped = analyse_document(parse_document(str(source), reverse), rules)
    assert [f.rule for f in flipped] == ["lock-order"]
    assert flipped[0].citation is not None and flipped[0].citation.line == 10


def _corpus() -> Path | None:
    root = os.environ.get("KVMLOCK_CORPUS") or str(
        Path.home() / ".cache" / "kvmlock" / "corpus" / "src" / "linux-source-6.1"
    )
    path = Path(root)
    return path if (path / "virt" / "kvm" / "kvm_main.c").is_file() else None


@pytest.mark.skipif(_corpus() is None, reason="real KVM corpus not fetched on this machine")
def test_real_kvm_sources_are_analysed_completely():
    root = _corpus()
    assert root is not None
    files = sorted((root / "virt" / "kvm").rglob("*.c")) + sorted(
        (root / "arch" / "x86" / "kvm").rglob("*.c")
    )
    functions = 0
    for path in files:
        doc = parse_document(str(path), path.read_bytes())
        rules = load_rules(None, path)
        assert not rules.builtin  # the tree's own locking.rst
        findings = analyse_document(doc, rules)
        functions += len(doc.functions)
        assert not [f for f in findings if f.rule == "analysis-skipped"], path
    assert functions > 2500
