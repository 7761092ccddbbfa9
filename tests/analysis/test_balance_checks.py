"""double-lock, unlock-unheld and lock-leak across branches, loops, gotos, trylocks and the
balanced conditional pattern."""

from __future__ import annotations


def pairs(found):
    return [(f.rule, f.span.line) for f in found]


def test_double_lock(check):
    found = check("""
        static void a(struct kvm *kvm)
        {
        	mutex_lock(&kvm->lock);
        	mutex_lock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        }
    """)
    assert ("double-lock", 5) in pairs(found)


def test_no_double_lock_for_each_vcpu_or_nested_or_srcu(check):
    assert check("""
        static void lock_all(struct kvm *kvm)
        {
        	struct kvm_vcpu *vcpu;
        	unsigned long i;
        	int idx, idx2;

        	kvm_for_each_vcpu(i, vcpu, kvm) {
        		mutex_lock(&vcpu->mutex);
        	}
        	kvm_for_each_vcpu(i, vcpu, kvm)
        		mutex_unlock(&vcpu->mutex);
        	mutex_lock(&kvm->lock);
        	mutex_lock_nested(&kvm->lock, 1);
        	mutex_unlock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        	idx = srcu_read_lock(&kvm->srcu);
        	idx2 = srcu_read_lock(&kvm->srcu);
        	srcu_read_unlock(&kvm->srcu, idx2);
        	srcu_read_unlock(&kvm->srcu, idx);
        }
    """) == []


def test_unlock_unheld_after_release_but_not_first_touch(check):
    found = check("""
        static void twice(struct kvm *kvm)
        {
        	mutex_lock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        }

        static void callers_lock(struct kvm_vcpu *vcpu)
        {
        	kvm_vcpu_srcu_read_unlock(vcpu);
        	schedule();
        	kvm_vcpu_srcu_read_lock(vcpu);
        }
    """)
    assert pairs(found) == [("unlock-unheld", 6)]


def test_lock_leak_on_failure_return(check):
    found = check("""
        static int leak(struct kvm *kvm, int x)
        {
        	mutex_lock(&kvm->lock);
        	if (x)
        		return -EINVAL;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    assert pairs(found) == [("lock-leak", 6)]
    assert found[0].severity == "warning"


def test_goto_error_path_releases(check):
    assert check("""
        static int ok(struct kvm *kvm, int x)
        {
        	int r;

        	mutex_lock(&kvm->lock);
        	r = -EINVAL;
        	if (x)
        		goto out_unlock;
        	r = do_thing(kvm);
        	if (r)
        		goto out_unlock;
        	r = 0;
        out_unlock:
        	mutex_unlock(&kvm->lock);
        	return r;
        }
    """) == []


def test_goto_to_wrong_label_leaks(check):
    found = check("""
        static int bad(struct kvm *kvm, int x)
        {
        	int r = 0;

        	mutex_lock(&kvm->lock);
        	if (x) {
        		r = -EINVAL;
        		goto out;
        	}
        	mutex_unlock(&kvm->lock);
        out:
        	return r;
        }
    """)
    assert pairs(found) == [("lock-leak", 13)]


def test_killable_and_trylock_failure_returns_are_not_leaks(check):
    found = check("""
        static int k(struct kvm_vcpu *vcpu)
        {
        	if (mutex_lock_killable(&vcpu->mutex))
        		return -EINTR;
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->mutex);
        	return 0;
        }

        static int t(struct kvm_vcpu *vcpu)
        {
        	if (!mutex_trylock(&vcpu->mutex))
        		return -EBUSY;
        	mutex_unlock(&vcpu->mutex);
        	return 0;
        }

        static int r(struct kvm_vcpu *vcpu)
        {
        	int ret = mutex_lock_interruptible(&vcpu->mutex);

        	if (ret)
        		return ret;
        	mutex_unlock(&vcpu->mutex);
        	return 0;
        }
    """)
    # kvm->lock inside vcpu->mutex is the only problem: held must, after the killable lock.
    assert [(f.rule, f.function, f.severity) for f in found] == [("lock-order", "k", "error")]


def test_lock_helpers_are_not_leaks(check):
    assert check("""
        static void take(struct kvm *kvm)
        	__acquires(&kvm->lock)
        {
        	mutex_lock(&kvm->lock);
        }

        static void take_unannotated(struct kvm *kvm)
        {
        	mutex_lock(&kvm->lock);
        }

        static int take_killable(struct kvm *kvm)
        {
        	return mutex_lock_killable(&kvm->lock);
        }
    """) == []


def test_balanced_conditional_locking(check):
    assert check("""
        static int maybe(struct kvm *kvm, bool need)
        {
        	if (need)
        		mutex_lock(&kvm->lock);
        	do_work(kvm);
        	if (need)
        		mutex_unlock(&kvm->lock);
        	return -EAGAIN;
        }

        static void with_else(struct kvm *kvm, bool shared)
        {
        	if (shared)
        		spin_lock(&kvm->arch.pages_lock);
        	else
        		lockdep_assert_held_write(&kvm->mmu_lock);
        	list_del(&kvm->thing);
        	if (shared)
        		spin_unlock(&kvm->arch.pages_lock);
        }
    """) == []
    changed = check("""
        static int maybe(struct kvm *kvm, bool need)
        {
        	if (need)
        		mutex_lock(&kvm->lock);
        	need = false;
        	if (need)
        		mutex_unlock(&kvm->lock);
        	return -EAGAIN;
        }
    """)
    assert [f.rule for f in changed] == ["lock-leak"]


def test_switch_and_do_while(check):
    found = check("""
        static void sw(struct kvm_vcpu *vcpu, int x)
        {
        	switch (x) {
        	case 1:
        		mutex_lock(&vcpu->mutex);
        		break;
        	default:
        		break;
        	}
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        }

        static void dw(struct kvm_vcpu *vcpu)
        {
        	do {
        		mutex_lock(&vcpu->mutex);
        	} while (0);
        	mutex_lock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->kvm->lock);
        	mutex_unlock(&vcpu->mutex);
        }
    """)
    order = [(f.function, f.severity) for f in found if f.rule == "lock-order"]
    assert order == [("sw", "warning"), ("dw", "error")]


def test_loop_with_continue_leaks_and_plain_loop_does_not(check):
    found = check("""
        static void bad(struct kvm *kvm, int n)
        {
        	int i;

        	for (i = 0; i < n; i++) {
        		mutex_lock(&kvm->lock);
        		if (i == 3)
        			continue;
        		mutex_unlock(&kvm->lock);
        	}
        }

        static void good(struct kvm *kvm, int n)
        {
        	int i;

        	for (i = 0; i < n; i++) {
        		mutex_lock(&kvm->lock);
        		if (i == 3) {
        			mutex_unlock(&kvm->lock);
        			continue;
        		}
        		mutex_unlock(&kvm->lock);
        	}
        }
    """)
    # The `continue` path comes round holding the lock and takes it again.
    assert [(f.rule, f.function, f.severity, f.span.line) for f in found] == [
        ("double-lock", "bad", "warning", 7)
    ]


def test_suppression_comment(check):
    assert check("""
        static void a(struct kvm *kvm)
        {
        	mutex_lock(&kvm->lock);
        	mutex_lock(&kvm->lock); // kvmlock: ignore[double-lock]
        	mutex_unlock(&kvm->lock);
        	mutex_unlock(&kvm->lock);
        }
    """) == []


def test_caller_lock_dropped_and_retaken_is_not_a_leak(check):
    assert check("""
        static int retry(struct kvm *kvm, struct cache *c)
        {
        	write_unlock_irq(&c->lock);
        	if (refill(c))
        		goto out_error;
        	write_lock_irq(&c->lock);
        	return 0;

        out_error:
        	write_lock_irq(&c->lock);
        	return -EFAULT;
        }

        static void unlock_two(struct kvm *dst, struct kvm *src)
        {
        	mutex_unlock(&dst->lock);
        	mutex_unlock(&src->lock);
        }
    """) == []


def test_unlock_all_loop_after_lock_all_loop(check):
    assert check("""
        static void unlock_vcpus(struct kvm *kvm)
        {
        	struct kvm_vcpu *vcpu;
        	unsigned long i;

        	kvm_for_each_vcpu(i, vcpu, kvm)
        		mutex_unlock(&vcpu->mutex);
        }

        static void map(struct kvm *kvm)
        {
        	struct kvm_vcpu *vcpu;
        	unsigned long i;

        	mutex_lock(&kvm->arch.map_lock);
        	kvm_for_each_vcpu(i, vcpu, kvm)
        		poke(vcpu);
        	mutex_unlock(&kvm->arch.map_lock);
        }
    """) == []


def test_a_lock_held_at_every_return_is_the_functions_contract(check):
    """A seq_file .start() takes the lock its .stop() drops, and returns NULL or an error
    pointer holding it too: no leak there (its callers see it as the call's effect). Taken
    in a loop, one per iteration is left behind: still a leak."""
    assert check("""
        static void *demo_debug_start(struct seq_file *s, loff_t *pos)
        {
        	struct demo_its *its = s->private;
        	struct demo_iter *iter;

        	mutex_lock(&its->its_lock);
        	if (list_empty(&its->devices))
        		return NULL;
        	iter = kmalloc(sizeof(*iter), GFP_KERNEL);
        	if (!iter)
        		return ERR_PTR(-ENOMEM);
        	return iter;
        }
    """) == []
    found = check("""
        static int demo_lock_each(struct demo_irq *irqs, int nr)
        {
        	int i;

        	for (i = 0; i < nr; i++) {
        		struct demo_irq *irq = &irqs[i];

        		spin_lock(&irq->lock);
        		if (irq->dead)
        			return -EIO;
        	}
        	return 0;
        }
    """)
    assert "lock-leak" in [f.rule for f in found]
