// SPDX-License-Identifier: MIT
/*
 * double-lock: the vCPU mutex is taken a second time while already held.
 * Kernel mutexes are not recursive, so the second call never returns.
 */
#include <linux/kvm_host.h>

static int kvm_vcpu_set_guest_debug(struct kvm_vcpu *vcpu, u32 flags)
{
	mutex_lock(&vcpu->mutex);
	vcpu->guest_debug = flags;
	if (flags & KVM_GUESTDBG_ENABLE) {
		mutex_lock(&vcpu->mutex);
		kvm_update_exception_bitmap(vcpu);
	}
	mutex_unlock(&vcpu->mutex);
	return 0;
}
