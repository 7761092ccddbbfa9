// SPDX-License-Identifier: MIT
/*
 * requires-held: kvm_zap_slot_range() asserts that kvm->slots_lock is held,
 * but kvm_vm_reset_slots() calls it after dropping that very lock. lockdep
 * would only complain once this path runs; the call chain shows it now.
 */
#include <linux/kvm_host.h>

static void kvm_zap_slot_range(struct kvm *kvm, gfn_t start, gfn_t end)
{
	lockdep_assert_held(&kvm->slots_lock);
	kvm_zap_gfn_range(kvm, start, end);
}

static void kvm_flush_slot_range(struct kvm *kvm, gfn_t start, gfn_t end)
{
	kvm_zap_slot_range(kvm, start, end);
	kvm_flush_remote_tlbs(kvm);
}

static int kvm_vm_reset_slots(struct kvm *kvm, gfn_t start, gfn_t end)
{
	mutex_lock(&kvm->slots_lock);
	kvm_reset_slot_flags(kvm);
	mutex_unlock(&kvm->slots_lock);

	kvm_flush_slot_range(kvm, start, end);
	return 0;
}
