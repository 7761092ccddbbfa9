"""The per-function observations other stages build on (summaries, hovers)."""

from __future__ import annotations

import textwrap

from analysis_fixtures import RULES

from kvmlock.analysis.engine import analyse_functions
from kvmlock.syntax.document import parse_document


def observe(code: str):
    doc = parse_document("virt/kvm/x.c", textwrap.dedent(code).encode())
    return {r.name: r.observations for r in analyse_functions(doc, RULES)}


def test_calls_carry_the_held_set_and_lock_arguments():
    obs = observe("""
        static int outer(struct kvm *kvm)
        {
        	int idx = srcu_read_lock(&kvm->srcu);

        	helper(kvm, &kvm->slots_lock);
        	srcu_read_unlock(&kvm->srcu, idx);
        	static_call(kvm_x86_flush)(kvm);
        	kvm_x86_ops.sync(kvm);
        	return 0;
        }
    """)["outer"]
    calls = [(c.callee, [h.cls for h in c.held], c.argument_classes) for c in obs.calls]
    assert calls == [
        ("helper", ["kvm->srcu"], (None, "kvm->slots_lock")),
        ("static_call(kvm_x86_flush)", [], (None,)),
        ("kvm_x86_ops.sync", [], (None,)),
    ]
    assert [(e.action, e.cls) for e in obs.events] == [
        ("acquire", "kvm->srcu"),
        ("release", "kvm->srcu"),
    ]


def test_entry_return_and_caller_facts():
    obs = observe("""
        static void take(struct kvm *kvm)
        {
        	mutex_lock(&kvm->lock);
        }

        static void needs(struct kvm *kvm)
        	__must_hold(&kvm->slots_lock)
        {
        	lockdep_assert_held(&kvm->mmu_lock);
        	kvm_vcpu_srcu_read_unlock(vcpu);
        	schedule();
        	kvm_vcpu_srcu_read_lock(vcpu);
        }
    """)
    assert obs["take"].held_at_every_return == ("kvm->lock",)
    assert obs["needs"].entry_held == ("kvm->slots_lock",)
    assert [e.cls for e in obs["needs"].events if e.action == "assert"] == ["kvm->mmu_lock"]
    assert obs["needs"].released_from_caller == ()  # released, then taken again
    assert obs["needs"].held_at_every_return == ()
