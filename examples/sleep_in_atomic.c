// SPDX-License-Identifier: MIT
/*
 * sleep-in-atomic: a mutex is taken while the spinning kvm->mmu_lock is held.
 * mutex_lock() may sleep, which is not allowed with preemption disabled.
 */
#include <linux/kvm_host.h>

static void kvm_zap_and_resize(struct kvm *kvm, unsigned long pages)
{
	spin_lock(&kvm->mmu_lock);
	kvm_zap_obsolete_pages(kvm);
	mutex_lock(&kvm->slots_lock);
	kvm->nr_mmu_pages = pages;
	mutex_unlock(&kvm->slots_lock);
	spin_unlock(&kvm->mmu_lock);
}
