// SPDX-License-Identifier: MIT
/*
 * double-lock: the vCPU mutex is taken a second time while already held.
 * Kernel mutexes are not recursive, so the second call never returns. The
 * same through calls: kvm_vcpu_flush_debug() takes the mutex of the vCPU it is
 * given, and its caller already holds it.
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

static void kvm_vcpu_flush_debug(struct kvm_vcpu *vcpu)
{
	mutex_lock(&vcpu->mutex);
	vcpu->guest_debug = 0;
	mutex_unlock(&vcpu->mutex);
}

static int kvm_vcpu_reset_debug(struct kvm_vcpu *vcpu)
{
	mutex_lock(&vcpu->mutex);
	kvm_vcpu_flush_debug(vcpu);
	mutex_unlock(&vcpu->mutex);
	return 0;
}
