// SPDX-License-Identifier: MIT
/*
 * lock-order: kvm->lock belongs outside kvm->slots_lock, but this ioctl helper
 * takes the memslot mutex first and then the per-VM mutex. Any path nesting them
 * the documented way round can deadlock against it.
 */
#include <linux/kvm_host.h>

static int kvm_vm_set_dirty_quota(struct kvm *kvm, u64 quota)
{
	int r = 0;

	mutex_lock(&kvm->slots_lock);
	if (!quota) {
		r = -EINVAL;
		goto out;
	}
	mutex_lock(&kvm->lock);
	kvm->dirty_quota = quota;
	mutex_unlock(&kvm->lock);
out:
	mutex_unlock(&kvm->slots_lock);
	return r;
}
