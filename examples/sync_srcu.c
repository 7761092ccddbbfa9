// SPDX-License-Identifier: MIT
/*
 * sync-srcu: synchronize_srcu(&kvm->srcu) is called before the caller's own
 * read-side section has ended, so the grace period waits for this very thread.
 */
#include <linux/kvm_host.h>

static void kvm_retire_io_bus(struct kvm *kvm, struct kvm_io_bus *old)
{
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	kvm_publish_new_bus(kvm);
	synchronize_srcu(&kvm->srcu);
	srcu_read_unlock(&kvm->srcu, idx);
	kfree(old);
}
