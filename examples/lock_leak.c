// SPDX-License-Identifier: MIT
/*
 * lock-leak: the early error return leaves kvm->slots_lock held, while the
 * normal return releases it.
 */
#include <linux/kvm_host.h>

static int kvm_vm_set_slot_limit(struct kvm *kvm, unsigned int limit)
{
	mutex_lock(&kvm->slots_lock);
	if (limit > KVM_USER_MEM_SLOTS)
		return -EINVAL;
	kvm->slot_limit = limit;
	mutex_unlock(&kvm->slots_lock);
	return 0;
}
