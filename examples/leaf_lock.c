// SPDX-License-Identifier: MIT
/*
 * leaf-lock: kvm->mn_invalidate_lock appears in no ordering rule, which makes it
 * a leaf, yet kvm->mmu_lock is taken while it is held.
 */
#include <linux/kvm_host.h>

static void kvm_end_invalidate(struct kvm *kvm)
{
	bool wake;

	spin_lock(&kvm->mn_invalidate_lock);
	wake = !--kvm->mn_active_invalidate_count;
	if (wake) {
		spin_lock(&kvm->mmu_lock);
		kvm->mmu_invalidate_in_progress = 0;
		spin_unlock(&kvm->mmu_lock);
	}
	spin_unlock(&kvm->mn_invalidate_lock);
}
