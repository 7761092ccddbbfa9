"""Function summaries: what each function does to its caller's locks, through its callees."""

from __future__ import annotations

from interproc_helpers import index_of, summary

from kvmlock.interproc.summaries import SummaryIndex


def test_acquires_through_callees_with_the_chain() -> None:
    index = index_of({
        "virt/kvm/a.c": """
            static void inner(struct kvm *kvm)
            {
            	mutex_lock(&kvm->slots_lock);
            	mutex_unlock(&kvm->slots_lock);
            }

            void outer(struct kvm *kvm)
            {
            	inner(kvm);
            }
        """,
    })
    effect = summary(index, "virt/kvm/a.c", "outer").acquires["kvm->slots_lock"]
    # lines count from the newline that opens the text
    assert [(s.function, s.line) for s in effect.chain] == [("outer", 10), ("inner", 4)]
    assert effect.chain[-1].text == "mutex_lock(&kvm->slots_lock)"
    assert effect.kind == "mutex" and effect.certain


def test_a_lock_passed_as_parameter_becomes_the_callers_argument() -> None:
    index = index_of({
        "virt/kvm/a.c": """
            static void take(struct mutex *m)
            {
            	mutex_lock(m);
            }

            static void give(struct mutex *m)
            {
            	mutex_unlock(m);
            }

            void relay(struct mutex *lock)
            {
            	take(lock);
            }

            void user(struct kvm *kvm)
            {
            	relay(&kvm->lock);
            	give(&kvm->lock);
            }
        """,
    })
    assert set(summary(index, "virt/kvm/a.c", "take").acquires) == {"$0"}
    assert summary(index, "virt/kvm/a.c", "take").returns_holding == ("$0",)
    assert summary(index, "virt/kvm/a.c", "give").releases == ("$0",)
    assert set(summary(index, "virt/kvm/a.c", "relay").acquires) == {"$0"}
    assert set(summary(index, "virt/kvm/a.c", "user").acquires) == {"kvm->lock"}


def test_requirements_from_asserts_and_annotations_propagate_to_unmanaging_callers() -> None:
    index = index_of({
        "virt/kvm/a.c": """
            static void needs_slots(struct kvm *kvm)
            {
            	lockdep_assert_held(&kvm->slots_lock);
            }

            static void needs_mmu(struct kvm *kvm)
            	__must_hold(&kvm->mmu_lock)
            {
            }

            void passes_through(struct kvm *kvm)
            {
            	needs_slots(kvm);
            	needs_mmu(kvm);
            }

            void takes_it(struct kvm *kvm)
            {
            	mutex_lock(&kvm->slots_lock);
            	needs_slots(kvm);
            	mutex_unlock(&kvm->slots_lock);
            }

            void asserts_after_taking(struct kvm *kvm)
            {
            	mutex_lock(&kvm->slots_lock);
            	lockdep_assert_held(&kvm->slots_lock);
            	mutex_unlock(&kvm->slots_lock);
            }
        """,
    })
    assert set(summary(index, "virt/kvm/a.c", "needs_slots").requires) == {"kvm->slots_lock"}
    assert set(summary(index, "virt/kvm/a.c", "needs_mmu").requires) == {"kvm->mmu_lock"}
    assert set(summary(index, "virt/kvm/a.c", "passes_through").requires) == {
        "kvm->slots_lock",
        "kvm->mmu_lock",
    }
    assert summary(index, "virt/kvm/a.c", "takes_it").requires == {}
    assert summary(index, "virt/kvm/a.c", "asserts_after_taking").requires == {}


def test_sync_sleep_and_dropping_the_callers_lock() -> None:
    index = index_of({
        "virt/kvm/a.c": """
            static void waits(struct kvm *kvm)
            {
            	synchronize_srcu(&kvm->srcu);
            }

            static void naps(void)
            {
            	msleep(10);
            }

            static void spins(struct kvm *kvm)
            {
            	udelay(10);
            }

            static void drops_reader(struct kvm_vcpu *vcpu)
            {
            	kvm_vcpu_srcu_read_unlock(vcpu);
            	naps();
            	kvm_vcpu_srcu_read_lock(vcpu);
            }

            void top(struct kvm *kvm)
            {
            	spins(kvm);
            	waits(kvm);
            }
        """,
    })
    top = summary(index, "virt/kvm/a.c", "top")
    assert top.sync is not None and top.sync.chain[-1].text == "synchronize_srcu(&kvm->srcu)"
    assert top.sleeps is not None
    assert summary(index, "virt/kvm/a.c", "naps").sleeps.chain[-1].text == "msleep(10)"
    assert summary(index, "virt/kvm/a.c", "spins").sleeps is None
    assert set(summary(index, "virt/kvm/a.c", "drops_reader").drops) == {"kvm->srcu"}


def test_recursion_and_call_cycles_terminate_with_the_union() -> None:
    index = index_of({
        "virt/kvm/a.c": """
            void ping(struct kvm *kvm, int n)
            {
            	if (n)
            		pong(kvm, n - 1);
            	ping(kvm, n);
            }
        """,
        "virt/kvm/b.c": """
            void pong(struct kvm *kvm, int n)
            {
            	if (!n) {
            		mutex_lock(&kvm->lock);
            		mutex_unlock(&kvm->lock);
            	}
            	ping(kvm, n);
            }
        """,
    })
    assert set(summary(index, "virt/kvm/a.c", "ping").acquires) == {"kvm->lock"}
    assert set(summary(index, "virt/kvm/b.c", "pong").acquires) == {"kvm->lock"}


def test_static_functions_bind_within_their_file() -> None:
    files = {
        "virt/kvm/a.c": """
            static void helper(struct kvm *kvm)
            {
            	mutex_lock(&kvm->lock);
            	mutex_unlock(&kvm->lock);
            }
        """,
        "virt/kvm/b.c": """
            static void helper(struct kvm *kvm)
            {
            }

            void caller(struct kvm *kvm)
            {
            	helper(kvm);
            }
        """,
    }
    assert summary(index_of(files), "virt/kvm/b.c", "caller").acquires == {}


def test_table_call_facts_are_certain_only_when_every_target_agrees() -> None:
    index: SummaryIndex = index_of({
        "arch/x86/kvm/vmx.c": """
            static void vmx_flush(struct kvm_vcpu *vcpu)
            {
            	mutex_lock(&vcpu->kvm->lock);
            	mutex_unlock(&vcpu->kvm->lock);
            }

            static struct kvm_x86_ops vmx_x86_ops = { .flush = vmx_flush };
        """,
        "arch/x86/kvm/svm.c": """
            static void svm_flush(struct kvm_vcpu *vcpu)
            {
            }

            static struct kvm_x86_ops svm_x86_ops = { .flush = svm_flush };
        """,
        "arch/x86/kvm/x86.c": """
            void flush(struct kvm_vcpu *vcpu)
            {
            	static_call(kvm_x86_flush)(vcpu);
            }
        """,
    })
    effect = summary(index, "arch/x86/kvm/x86.c", "flush").acquires["kvm->lock"]
    assert not effect.certain
    assert [s.function for s in effect.chain] == ["flush", "vmx_flush"]
