// SPDX-License-Identifier: MIT
/*
 * srcu-order: kvm->slots_lock is taken inside a kvm->srcu read-side section.
 * Memslot updaters hold that mutex while waiting for SRCU readers, so this
 * reader can block on the updater while the updater waits for the reader.
 */
#include <linux/kvm_host.h>

static void kvm_vcpu_sync_slot_flags(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	if (kvm_slot_flags_stale(kvm)) {
		mutex_lock(&kvm->slots_lock);
		kvm_refresh_slot_flags(kvm);
		mutex_unlock(&kvm->slots_lock);
	}
	srcu_read_unlock(&kvm->srcu, idx);
}
