"""Helpers for the analysis tests: a small rule base built by hand, and a helper that
runs the real pipeline (rewrite → parse → function index → dataflow → checks) on C text."""

from __future__ import annotations

import textwrap

from kvmlock.analysis.engine import analyse_document
from kvmlock.analysis.findings import Finding
from kvmlock.rules.model import (
    Citation,
    LeafRule,
    LockInfo,
    MmuNotifierRule,
    OrderRule,
    RequiresOuterRule,
    RuleBase,
    SrcuReadSideRule,
    SyncSrcuInsideRule,
)
from kvmlock.syntax.document import parse_document

DOC = "tests/fixtures/rst/hand-built"


def _cite(line: int, section: str = "1. Acquisition Orders") -> Citation:
    return Citation(DOC, line, section)


def hand_built_rules() -> RuleBase:
    rules = [
        OrderRule(_cite(12), None, outer="cpus_read_lock", inner="kvm_lock"),
        OrderRule(_cite(14), None, outer="kvm->lock", inner="vcpu->mutex"),
        OrderRule(_cite(16), None, outer="kvm->lock", inner="kvm->slots_lock"),
        OrderRule(_cite(16), None, outer="kvm->lock", inner="kvm->irq_lock"),
        OrderRule(_cite(18), None, outer="kvm->slots_lock", inner="kvm->irq_lock"),
        MmuNotifierRule(_cite(21), None, lock="kvm->slots_lock"),
        MmuNotifierRule(_cite(21), None, lock="kvm->slots_arch_lock"),
        SyncSrcuInsideRule(_cite(30, "For SRCU"), None, lock="kvm->lock"),
        SyncSrcuInsideRule(_cite(30, "For SRCU"), None, lock="vcpu->mutex"),
        SyncSrcuInsideRule(_cite(30, "For SRCU"), None, lock="kvm->slots_lock"),
        SrcuReadSideRule(_cite(30, "For SRCU"), None, lock="kvm->lock", allowed=False),
        SrcuReadSideRule(_cite(30, "For SRCU"), None, lock="vcpu->mutex", allowed=False),
        SrcuReadSideRule(_cite(30, "For SRCU"), None, lock="kvm->slots_lock", allowed=False),
        SrcuReadSideRule(_cite(37, "For SRCU"), None, lock="kvm->slots_arch_lock", allowed=True),
        OrderRule(_cite(44), "x86", outer="vcpu->mutex", inner="kvm->arch.hyperv.hv_lock"),
        OrderRule(_cite(44), "x86", outer="vcpu->mutex", inner="kvm->arch.xen.xen_lock"),
        OrderRule(_cite(46), "x86", outer="kvm->mmu_lock", inner="kvm->arch.tdp_mmu_pages_lock"),
        RequiresOuterRule(_cite(46), "x86", inner="kvm->arch.tdp_mmu_pages_lock",
                          outer="kvm->mmu_lock"),
        LeafRule(_cite(52), None),
        LockInfo(_cite(90, "3. Reference"), None, name="kvm_lock", type="mutex"),
        LockInfo(_cite(100, "3. Reference"), None, name="kvm->mmu_lock",
                 type="spinlock_t or rwlock_t"),
        LockInfo(_cite(110, "3. Reference"), None, name="vendor_module_lock", type="mutex"),
        LockInfo(_cite(120, "3. Reference"), None, name="kvm->mn_invalidate_lock",
                 type="spinlock_t"),
    ]
    return RuleBase(source=DOC, builtin=False, rules=rules)


RULES = hand_built_rules()


def run(code: str, path: str = "virt/kvm/example.c", rules: RuleBase = RULES) -> list[Finding]:
    source = textwrap.dedent(code).encode()
    doc = parse_document(path, source)
    return analyse_document(doc, rules)


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]
