"""Findings through calls, in process: the quiet cases that keep the checks honest."""

from __future__ import annotations

from interproc_helpers import workspace_findings


def _rules(files: dict[str, str]) -> list[tuple[str, str]]:
    return sorted((f.rule, f.severity) for f in workspace_findings(files))


def test_a_callee_that_leaves_the_read_side_section_first_is_quiet() -> None:
    files = {
        "virt/kvm/a.c": """
            static void block(struct kvm_vcpu *vcpu)
            {
            	kvm_vcpu_srcu_read_unlock(vcpu);
            	mutex_lock(&vcpu->kvm->slots_lock);
            	mutex_unlock(&vcpu->kvm->slots_lock);
            	kvm_vcpu_srcu_read_lock(vcpu);
            }

            void run(struct kvm_vcpu *vcpu)
            {
            	kvm_vcpu_srcu_read_lock(vcpu);
            	block(vcpu);
            	kvm_vcpu_srcu_read_unlock(vcpu);
            }
        """,
    }
    assert _rules(files) == []


def test_a_cycle_through_a_documented_order_is_left_to_lock_order() -> None:
    files = {
        "virt/kvm/a.c": """
            static void take_lock(struct kvm *kvm)
            {
            	mutex_lock(&kvm->lock);
            	mutex_unlock(&kvm->lock);
            }

            void right(struct kvm *kvm)
            {
            	mutex_lock(&kvm->lock);
            	mutex_lock(&kvm->slots_lock);
            	mutex_unlock(&kvm->slots_lock);
            	mutex_unlock(&kvm->lock);
            }

            void wrong(struct kvm *kvm)
            {
            	mutex_lock(&kvm->slots_lock);
            	take_lock(kvm);
            	mutex_unlock(&kvm->slots_lock);
            }
        """,
    }
    assert _rules(files) == [("lock-order", "error")]


def test_sleeping_through_calls_and_known_sleepers() -> None:
    files = {
        "virt/kvm/a.c": """
            static void settle(struct kvm *kvm)
            {
            	msleep(1);
            }

            void under_spinlock(struct kvm *kvm)
            {
            	spin_lock(&kvm->mmu_lock);
            	settle(kvm);
            	spin_unlock(&kvm->mmu_lock);
            }

            void under_mutex(struct kvm *kvm)
            {
            	mutex_lock(&kvm->lock);
            	settle(kvm);
            	mutex_unlock(&kvm->lock);
            }
        """,
    }
    (finding,) = workspace_findings(files)
    assert (finding.rule, finding.function, finding.span.line) == (
        "sleep-in-atomic",
        "under_spinlock",
        10,
    )
    assert "settle(kvm) may sleep (via settle at a.c:4)" in finding.message
    assert [r.line for r in finding.related][:2] == [9, 4]


def test_sync_srcu_through_calls_and_some_paths_only() -> None:
    files = {
        "virt/kvm/a.c": """
            static void wait_readers(struct kvm *kvm)
            {
            	synchronize_srcu_expedited(&kvm->srcu);
            }

            void reader(struct kvm *kvm, bool c)
            {
            	int idx = 0;

            	if (c)
            		idx = srcu_read_lock(&kvm->srcu);
            	wait_readers(kvm);
            	if (c)
            		srcu_read_unlock(&kvm->srcu, idx);
            }
        """,
    }
    (finding,) = workspace_findings(files)
    assert (finding.rule, finding.severity) == ("sync-srcu", "warning")
    assert finding.message.endswith("(on some paths)")


def test_leaf_lock_through_a_call_is_a_note() -> None:
    files = {
        "virt/kvm/a.c": """
            static void touch(struct kvm *kvm)
            {
            	mutex_lock(&kvm->slots_lock);
            	mutex_unlock(&kvm->slots_lock);
            }

            void walk(struct kvm *kvm)
            {
            	spin_lock(&kvm->mn_invalidate_lock);
            	touch(kvm);
            	spin_unlock(&kvm->mn_invalidate_lock);
            }
        """,
    }
    assert ("leaf-lock", "info") in _rules(files)
