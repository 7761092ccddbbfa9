// SPDX-License-Identifier: MIT
/*
 * unlock-unheld: kvm->lock is already dropped when the check fails, yet the
 * error path jumps to a label that unlocks it a second time.
 */
#include <linux/kvm_host.h>

static int kvm_vm_set_max_vcpus(struct kvm *kvm, unsigned int max)
{
	int r;

	mutex_lock(&kvm->lock);
	r = kvm->created_vcpus ? -EBUSY : 0;
	mutex_unlock(&kvm->lock);
	if (r)
		goto out_unlock;

	WRITE_ONCE(kvm->max_vcpus, max);
	return 0;

out_unlock:
	mutex_unlock(&kvm->lock);
	return r;
}
