"""Lock identity is the class (struct + field, as lockdep names it), whatever the spelling."""

from __future__ import annotations

from kvmlock.rules.classes import canonical


def test_spellings_across_versions_are_one_class():
    assert canonical("kvm->arch.mmu_lock") == "kvm->mmu_lock"
    assert canonical("cpus_read_lock()") == "cpus_read_lock"
    assert canonical("kvm_arch::tsc_write_lock") == "kvm->arch.tsc_write_lock"
    assert canonical("``kvm->lock``") == "kvm->lock"


def test_struct_typed_locals_and_helpers_name_the_class(check):
    found = check("""
        static void hv(struct kvm_vcpu *vcpu)
        {
        	struct kvm_hv *hv = to_kvm_hv(vcpu->kvm);

        	mutex_lock(&hv->hv_lock);
        	mutex_lock(&vcpu->mutex);
        	mutex_unlock(&vcpu->mutex);
        	mutex_unlock(&hv->hv_lock);
        }
    """, path="arch/x86/kvm/hyperv.c")
    assert [f.rule for f in found] == ["lock-order"]
    assert "while holding kvm->arch.hyperv.hv_lock" in found[0].message


def test_old_mmu_lock_spelling_satisfies_requires_outer(check):
    assert check("""
        static void link(struct kvm *kvm)
        {
        	write_lock(&kvm->arch.mmu_lock);
        	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
        	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
        	write_unlock(&kvm->arch.mmu_lock);
        	write_lock(&kvm->mmu_lock);
        	write_unlock(&kvm->mmu_lock);
        }
    """, path="arch/x86/kvm/mmu/mmu.c") == []


def test_pointer_alias_and_per_cpu_lock(check):
    found = check("""
        static void alias(struct kvm *kvm)
        {
        	struct mutex *m = &kvm->slots_lock;

        	mutex_lock(m);
        	mutex_lock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        	mutex_unlock(m);
        }

        static void percpu(int cpu)
        {
        	spin_lock(&per_cpu(wakeup_list_lock, cpu));
        	spin_lock(&per_cpu(wakeup_list_lock, cpu));
        }
    """)
    assert [(f.rule, f.function) for f in found] == [
        ("lock-order", "alias"),
        ("double-lock", "percpu"),
    ]
    assert "while holding kvm->slots_lock" in found[0].message
