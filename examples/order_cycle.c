// SPDX-License-Identifier: MIT
/*
 * order-cycle: locking.rst says nothing about these three locks, but the code
 * nests them apic_map_lock -> pmu_lock (through a call), pmu_lock ->
 * msr_filter_lock, and msr_filter_lock -> apic_map_lock (through two calls).
 * Three CPUs, one in each function, can each hold one lock and wait for the
 * next: the circular dependency lockdep would report once all three ran.
 */
#include <linux/kvm_host.h>

static void kvm_pmu_refresh_filter(struct kvm *kvm)
{
	mutex_lock(&kvm->arch.pmu_lock);
	kvm_pmu_reprogram_counters(kvm);
	mutex_unlock(&kvm->arch.pmu_lock);
}

static void kvm_recalculate_apic_map(struct kvm *kvm)
{
	mutex_lock(&kvm->arch.apic_map_lock);
	kvm_pmu_refresh_filter(kvm);
	mutex_unlock(&kvm->arch.apic_map_lock);
}

static void kvm_pmu_apply_msr_filter(struct kvm *kvm)
{
	mutex_lock(&kvm->arch.pmu_lock);
	mutex_lock(&kvm->arch.msr_filter_lock);
	kvm_pmu_copy_msr_filter(kvm);
	mutex_unlock(&kvm->arch.msr_filter_lock);
	mutex_unlock(&kvm->arch.pmu_lock);
}

static void kvm_apic_map_changed(struct kvm *kvm)
{
	kvm_recalculate_apic_map(kvm);
}

static int kvm_vm_set_msr_filter(struct kvm *kvm)
{
	mutex_lock(&kvm->arch.msr_filter_lock);
	kvm_apic_map_changed(kvm);
	mutex_unlock(&kvm->arch.msr_filter_lock);
	return 0;
}
