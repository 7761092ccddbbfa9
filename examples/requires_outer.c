// SPDX-License-Identifier: MIT
/*
 * requires-outer: the TDP MMU page-list spinlock only makes sense nested inside
 * kvm->mmu_lock, but this helper drops the MMU lock first and then takes the
 * page-list lock on its own.
 */
#include <linux/kvm_host.h>

static void kvm_tdp_mmu_forget_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	write_lock(&kvm->mmu_lock);
	kvm_tdp_mmu_zap_sp(kvm, sp);
	write_unlock(&kvm->mmu_lock);

	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
	list_del(&sp->link);
	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
}
