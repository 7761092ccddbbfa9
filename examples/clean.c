// SPDX-License-Identifier: MIT
/*
 * clean: the same kinds of operations as the other examples, written the way
 * the locking rules ask. kvmlock reports nothing here.
 */
#include <linux/kvm_host.h>

static int kvm_vm_set_dirty_quota(struct kvm *kvm, u64 quota)
{
	if (!quota)
		return -EINVAL;

	mutex_lock(&kvm->lock);
	mutex_lock(&kvm->slots_lock);
	kvm->dirty_quota = quota;
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&kvm->lock);
	return 0;
}

static void kvm_vcpu_sync_slot_flags(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	int idx;

	mutex_lock(&kvm->slots_lock);
	idx = srcu_read_lock(&kvm->srcu);
	kvm_refresh_slot_flags(kvm);
	srcu_read_unlock(&kvm->srcu, idx);
	mutex_unlock(&kvm->slots_lock);
}

static void kvm_tdp_mmu_forget_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	read_lock(&kvm->mmu_lock);
	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
	list_del(&sp->link);
	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
	read_unlock(&kvm->mmu_lock);
}

static int kvm_vm_set_slot_limit(struct kvm *kvm, unsigned int limit)
{
	int r = 0;

	mutex_lock(&kvm->slots_lock);
	if (limit > KVM_USER_MEM_SLOTS) {
		r = -EINVAL;
		goto out;
	}
	kvm->slot_limit = limit;
out:
	mutex_unlock(&kvm->slots_lock);
	return r;
}
