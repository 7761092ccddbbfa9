"""lock-order, srcu-order, sync-srcu, requires-outer, mmu-notifier, sleep-in-atomic, leaf-lock:
each flagged fixture has a near-identical twin that must stay quiet."""

from __future__ import annotations


def rules_of(findings):
    return sorted(f.rule for f in findings)


def test_lock_order_flags_inner_then_outer(check):
    found = check("""
        static int set_thing(struct kvm_vcpu *vcpu)
        {
        	mutex_lock(&vcpu->mutex);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->mutex);
        	return 0;
        }
    """)
    assert rules_of(found) == ["lock-order"]
    finding = found[0]
    assert finding.severity == "error"
    assert finding.span.line == 5
    assert "while holding vcpu->mutex (line 4)" in finding.message
    assert "kvm->lock is taken outside vcpu->mutex" in finding.message
    assert finding.citation is not None and finding.citation.line == 14


def test_lock_order_quiet_in_documented_order(check):
    assert check("""
        static int set_thing(struct kvm_vcpu *vcpu)
        {
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_lock(&vcpu->mutex);
        	mutex_unlock(&vcpu->mutex);
        	mutex_unlock(&vcpu->kvm->lock);
        	return 0;
        }
    """) == []


def test_lock_order_through_local_alias(check):
    found = check("""
        static void poke(struct kvm_vcpu *vcpu)
        {
        	struct kvm *k = vcpu->kvm;

        	mutex_lock(&vcpu->mutex);
        	mutex_lock(&k->lock);
        	mutex_unlock(&k->lock);
        	mutex_unlock(&vcpu->mutex);
        }
    """)
    assert rules_of(found) == ["lock-order"]


def test_lock_order_quiet_after_unlock(check):
    assert check("""
        static void poke(struct kvm_vcpu *vcpu)
        {
        	mutex_lock(&vcpu->mutex);
        	mutex_unlock(&vcpu->mutex);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }
    """) == []


def test_lock_order_some_paths_is_softer(check):
    found = check("""
        static void poke(struct kvm_vcpu *vcpu, int x)
        {
        	if (x)
        		mutex_lock(&vcpu->mutex);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	if (x)
        		mutex_unlock(&vcpu->mutex);
        }
    """)
    assert rules_of(found) == ["lock-order"]
    assert found[0].severity == "warning"
    assert "on some paths" in found[0].message


def test_lock_order_transitive_chain_on_x86(check):
    code = """
        static void hv_thing(struct kvm *kvm)
        {
        	mutex_lock(&kvm->arch.hyperv.hv_lock);
        	mutex_lock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        	mutex_unlock(&kvm->arch.hyperv.hv_lock);
        }
    """
    found = check(code, path="arch/x86/kvm/hyperv.c")
    assert rules_of(found) == ["lock-order"]
    assert "kvm->lock → vcpu->mutex → kvm->arch.hyperv.hv_lock" in found[0].message
    # The x86 rule does not apply to another architecture's files.
    assert check(code, path="arch/arm64/kvm/thing.c") == []


def test_lock_order_from_lockdep_assert_and_must_hold(check):
    found = check("""
        static void a(struct kvm_vcpu *vcpu)
        {
        	lockdep_assert_held(&vcpu->mutex);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }

        static void b(struct kvm_vcpu *vcpu)
        	__must_hold(&vcpu->mutex)
        {
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }
    """)
    assert [(f.rule, f.function) for f in found] == [("lock-order", "a"), ("lock-order", "b")]


def test_guard_held_to_end_of_block(check):
    flagged = check("""
        static void g(struct kvm_vcpu *vcpu)
        {
        	guard(mutex)(&vcpu->mutex);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }
    """)
    assert rules_of(flagged) == ["lock-order"]
    quiet = check("""
        static void g(struct kvm_vcpu *vcpu)
        {
        	{
        		guard(mutex)(&vcpu->mutex);
        		vcpu->x = 1;
        	}
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }
    """)
    assert quiet == []


def test_scoped_guard_body_braced_and_unbraced(check):
    found = check("""
        static void s(struct kvm_vcpu *vcpu)
        {
        	scoped_guard(mutex, &vcpu->mutex) {
        		mutex_lock(&vcpu->kvm->lock);
        		mutex_unlock(&vcpu->kvm->lock);
        	}
        	scoped_guard(mutex, &vcpu->mutex)
        		mutex_lock(&vcpu->kvm->lock);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }
    """)
    # Line 9 (unbraced body) is inside the guard; line 10 is after it: only the double
    # lock of kvm->lock (still held from line 9) is reported there.
    assert [(f.rule, f.span.line) for f in found] == [
        ("lock-order", 5),
        ("lock-order", 9),
        ("double-lock", 10),
    ]


def test_srcu_order(check):
    found = check("""
        static void s(struct kvm *kvm)
        {
        	int idx = srcu_read_lock(&kvm->srcu);

        	mutex_lock(&kvm->slots_lock);
        	mutex_unlock(&kvm->slots_lock);
        	mutex_lock(&kvm->slots_arch_lock);
        	mutex_unlock(&kvm->slots_arch_lock);
        	srcu_read_unlock(&kvm->srcu, idx);
        	mutex_lock(&kvm->slots_lock);
        	mutex_unlock(&kvm->slots_lock);
        }
    """)
    assert [(f.rule, f.span.line) for f in found] == [("srcu-order", 6)]


def test_srcu_order_via_vcpu_helper(check):
    found = check("""
        static int run(struct kvm_vcpu *vcpu)
        {
        	kvm_vcpu_srcu_read_lock(vcpu);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	kvm_vcpu_srcu_read_unlock(vcpu);
        	return 0;
        }
    """)
    assert rules_of(found) == ["srcu-order"]


def test_sync_srcu(check):
    found = check("""
        static void a(struct kvm *kvm)
        {
        	int idx = srcu_read_lock(&kvm->srcu);
        	synchronize_srcu(&kvm->srcu);
        	srcu_read_unlock(&kvm->srcu, idx);
        }

        static void b(struct kvm *kvm)
        {
        	mutex_lock(&kvm->slots_arch_lock);
        	synchronize_srcu_expedited(&kvm->srcu);
        	mutex_unlock(&kvm->slots_arch_lock);
        }

        static void fine(struct kvm *kvm)
        {
        	mutex_lock(&kvm->slots_lock);
        	synchronize_srcu(&kvm->srcu);
        	mutex_unlock(&kvm->slots_lock);
        }
    """)
    assert [(f.rule, f.function) for f in found] == [("sync-srcu", "a"), ("sync-srcu", "b")]


def test_requires_outer(check):
    code = """
        static void bad(struct kvm *kvm)
        {
        	read_lock(&kvm->mmu_lock);
        	zap(kvm);
        	read_unlock(&kvm->mmu_lock);
        	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
        	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
        }

        static void callers_hold_it(struct kvm *kvm)
        {
        	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
        	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
        }

        static void helper_asserts(struct kvm *kvm, bool shared)
        {
        	kvm_lockdep_assert_mmu_lock_held(kvm, shared);
        	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
        	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
        }

        static void good(struct kvm *kvm)
        {
        	read_lock(&kvm->mmu_lock);
        	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
        	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
        	read_unlock(&kvm->mmu_lock);
        }

        static void asserted(struct kvm *kvm)
        {
        	lockdep_assert_held_write(&kvm->mmu_lock);
        	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
        	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
        }
    """
    found = check(code, path="arch/x86/kvm/mmu/tdp_mmu.c")
    assert [(f.rule, f.function, f.severity) for f in found] == [
        ("requires-outer", "bad", "warning")
    ]


def test_mmu_notifier(check):
    found = check("""
        static int notifier_start(struct mmu_notifier *mn, const struct mmu_notifier_range *r)
        {
        	struct kvm *kvm = mmu_notifier_to_kvm(mn);

        	mutex_lock(&kvm->slots_lock);
        	mutex_unlock(&kvm->slots_lock);
        	return 0;
        }

        static int not_a_notifier(struct kvm *kvm)
        {
        	mutex_lock(&kvm->slots_lock);
        	mutex_unlock(&kvm->slots_lock);
        	return 0;
        }

        static const struct mmu_notifier_ops my_notifier_ops = {
        	.invalidate_range_start	= notifier_start,
        };
    """)
    assert [(f.rule, f.function) for f in found] == [("mmu-notifier", "notifier_start")]


def test_sleep_in_atomic(check):
    found = check("""
        static void a(struct kvm *kvm)
        {
        	write_lock(&kvm->mmu_lock);
        	mutex_lock(&kvm->slots_arch_lock);
        	mutex_unlock(&kvm->slots_arch_lock);
        	write_unlock(&kvm->mmu_lock);
        }

        static void b(struct kvm *kvm)
        {
        	spin_lock(&kvm->mn_invalidate_lock);
        	synchronize_srcu(&kvm->srcu);
        	spin_unlock(&kvm->mn_invalidate_lock);
        }

        static void fine(struct kvm *kvm)
        {
        	spin_lock(&kvm->mn_invalidate_lock);
        	spin_unlock(&kvm->mn_invalidate_lock);
        	mutex_lock(&kvm->slots_arch_lock);
        	mutex_unlock(&kvm->slots_arch_lock);
        }
    """)
    assert [(f.rule, f.function) for f in found if f.rule == "sleep-in-atomic"] == [
        ("sleep-in-atomic", "a"),
        ("sleep-in-atomic", "b"),
    ]


def test_leaf_lock(check):
    found = check("""
        static void a(void)
        {
        	mutex_lock(&vendor_module_lock);
        	mutex_lock(&kvm_lock);
        	mutex_unlock(&kvm_lock);
        	mutex_unlock(&vendor_module_lock);
        }

        static void undocumented_inner_is_fine(struct foo *f)
        {
        	mutex_lock(&vendor_module_lock);
        	mutex_lock(&f->private_lock);
        	mutex_unlock(&f->private_lock);
        	mutex_unlock(&vendor_module_lock);
        }
    """)
    assert [(f.rule, f.function, f.severity) for f in found] == [("leaf-lock", "a", "warning")]


def test_an_srcu_read_side_is_no_lock_inside_a_leaf(check):
    """A read side never waits, so it cannot close a cycle under a leaf lock (issue 12,
    mechanism 6); synchronize_srcu() there is sync-srcu's business."""
    found = check("""
        static void walk_vms(void)
        {
        	struct kvm *kvm;
        	int idx;

        	mutex_lock(&vendor_module_lock);
        	idx = srcu_read_lock(&kvm->srcu);
        	srcu_read_unlock(&kvm->srcu, idx);
        	mutex_lock(&kvm->slots_lock);
        	mutex_unlock(&kvm->slots_lock);
        	mutex_unlock(&vendor_module_lock);
        }
    """)
    assert [(f.rule, f.span.line) for f in found if f.rule == "leaf-lock"] == [("leaf-lock", 10)]


def test_scoped_cond_guard_acquire_and_class_guards(check):
    code = """
        static int a(struct kvm_vcpu *vcpu)
        {
        	scoped_cond_guard(mutex_intr, return -EINTR, &vcpu->mutex) {
        		mutex_lock(&vcpu->kvm->lock);
        		mutex_unlock(&vcpu->kvm->lock);
        	}
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	return 0;
        }

        static int b(struct kvm_vcpu *vcpu)
        {
        	int err;

        	ACQUIRE(mutex_intr, lock)(&vcpu->mutex);
        	err = ACQUIRE_ERR(mutex_intr, &lock);
        	if (err)
        		return err;
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	return 0;
        }

        static int c(struct kvm_vcpu *vcpu)
        {
        	CLASS(mutex, scope)(&vcpu->mutex);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	return 0;
        }
    """
    found = check(code)
    # Inside the guards only; the line after scoped_cond_guard's body is outside it, and no
    # guard is ever reported as a leak.
    assert [(f.rule, f.function, f.span.line) for f in found] == [
        ("lock-order", "a", 5),
        ("lock-order", "b", 21),
        ("lock-order", "c", 29),
    ]


def test_srcu_read_side_inside_a_documented_inner_lock_is_not_an_order_bug(check):
    """A read-side section never waits: "kvm->srcu outside kvm->lock" is enforced on the
    writer (sync-srcu), not on srcu_read_lock taken under kvm->lock."""
    from kvmlock.rules.model import Citation, OrderRule, RuleBase, SyncSrcuForbiddenRule

    cite = Citation("fixture", 36, "1. Acquisition Orders")
    rules = RuleBase(
        source="fixture",
        builtin=False,
        rules=[
            OrderRule(cite, None, outer="kvm->srcu", inner="kvm->lock"),
            SyncSrcuForbiddenRule(cite, None, lock="kvm->lock"),
        ],
    )
    found = check("""
        static void f(struct kvm *kvm)
        {
        	int idx;

        	mutex_lock(&kvm->lock);
        	idx = srcu_read_lock(&kvm->srcu);
        	srcu_read_unlock(&kvm->srcu, idx);
        	synchronize_srcu(&kvm->srcu);
        	mutex_unlock(&kvm->lock);
        }
    """, rules=rules)
    assert [(f.rule, f.span.line) for f in found] == [("sync-srcu", 9)]
