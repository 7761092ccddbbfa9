// SPDX-License-Identifier: MIT
/*
 * lock-leak: the early error return leaves kvm->slots_lock held, while the
 * normal return releases it. The same through a helper: kvm_lock_two_vms()
 * returns 0 holding both VMs' kvm->lock (an error holding nothing), so the
 * caller's -EBUSY return after it keeps them.
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

static int kvm_lock_two_vms(struct kvm *dst, struct kvm *src)
{
	if (mutex_lock_killable(&dst->lock))
		return -EINTR;
	if (mutex_lock_killable_nested(&src->lock, SINGLE_DEPTH_NESTING)) {
		mutex_unlock(&dst->lock);
		return -EINTR;
	}
	return 0;
}

static int kvm_vm_copy_slot_limit(struct kvm *dst, struct kvm *src)
{
	int r;

	r = kvm_lock_two_vms(dst, src);
	if (r)
		return r;
	if (src->slot_limit > dst->slot_limit)
		return -EBUSY;
	dst->slot_limit = src->slot_limit;
	mutex_unlock(&src->lock);
	mutex_unlock(&dst->lock);
	return 0;
}
