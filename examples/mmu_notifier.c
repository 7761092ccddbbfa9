// SPDX-License-Identifier: MIT
/*
 * mmu-notifier: an MMU notifier callback takes kvm->slots_lock. Memslot updates
 * hold that mutex while they wait for running invalidations, so the callback
 * can wait on the very thread that is waiting on it.
 */
#include <linux/kvm_host.h>
#include <linux/mmu_notifier.h>

static void kvm_example_range_end(struct mmu_notifier *mn,
				  const struct mmu_notifier_range *range)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);

	mutex_lock(&kvm->slots_lock);
	kvm->range_end_count++;
	mutex_unlock(&kvm->slots_lock);
}

static const struct mmu_notifier_ops kvm_example_notifier_ops = {
	.invalidate_range_end	= kvm_example_range_end,
};
