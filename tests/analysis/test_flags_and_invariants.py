"""Branches correlated through local flags (`locked = true; spin_lock(l);` ... `if (locked)
spin_unlock(l);`) and through conditions a loop does not change (`if (stop) return -EBUSY;` at
the top of a loop whose earlier iterations took a lock): the lock is known to be held exactly
where the flag says so, and a test that was false on an earlier iteration stays false."""

from __future__ import annotations


def pairs(found):
    return [(f.rule, f.span.line) for f in found]


def balance(found):
    return [p for p in pairs(found) if p[0] in ("lock-leak", "unlock-unheld", "double-lock")]


# --- flags ------------------------------------------------------------------------------------


def test_flag_set_in_the_lock_branch_of_a_loop(check):
    found = check("""
        static int mark_pages(struct kvm *kvm, struct page_list *list, bool quick, bool may_mark)
        {
        	struct shadow_page *page;
        	bool locked = false;

        	list_for_each_entry(page, &list->head, link) {
        		if (!may_mark)
        			return -EPERM;
        		if (page->marked)
        			continue;
        		if (quick)
        			return -EEXIST;
        		if (!locked) {
        			locked = true;
        			spin_lock(&kvm->mmu_lock);
        			if (READ_ONCE(page->marked))
        				continue;
        		}
        		mark_one(kvm, page);
        	}
        	if (locked)
        		spin_unlock(&kvm->mmu_lock);
        	return 0;
        }
    """)
    assert balance(found) == []


def test_int_flag_set_after_the_lock_and_tested_against_one(check):
    found = check("""
        static void drain(struct kvm *kvm, int n)
        {
        	int i, taken = 0;

        	for (i = 0; i < n; i++) {
        		if (!pending(kvm, i))
        			continue;
        		if (taken == 0) {
        			mutex_lock(&kvm->lock);
        			taken = 1;
        		}
        		drain_one(kvm, i);
        	}
        	if (taken == 1)
        		mutex_unlock(&kvm->lock);
        }
    """)
    assert balance(found) == []


def test_flag_on_an_unrelated_condition_resolves_both_branches(check):
    found = check("""
        static int update(struct kvm *kvm, struct kvm_vcpu *vcpu)
        {
        	int flag = 0;

        	if (vcpu_needs_lock(vcpu)) {
        		flag = 1;
        		mutex_lock(&kvm->lock);
        	}
        	do_update(vcpu);
        	if (!flag)
        		return 0;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    assert balance(found) == []


def test_flag_known_held_on_its_branch(check):
    """The flag's branch holds the lock on every path: taking an inner lock there that
    must not be taken inside it is reported at full severity."""
    found = check("""
        static void order(struct kvm *kvm, struct kvm_vcpu *vcpu)
        {
        	bool slots = false;

        	if (needs_slots(kvm)) {
        		mutex_lock(&kvm->slots_lock);
        		slots = true;
        	}
        	prepare(kvm);
        	if (slots) {
        		mutex_lock(&kvm->lock);
        		mutex_unlock(&kvm->lock);
        		mutex_unlock(&kvm->slots_lock);
        	}
        }
    """)
    order = [f for f in found if f.rule == "lock-order"]
    assert [f.span.line for f in order] == [12]
    assert "(on some paths)" not in order[0].message
    assert balance(found) == []


def test_flag_reassigned_before_the_test_is_forgotten(check):
    found = check("""
        static int reset(struct kvm *kvm, bool want)
        {
        	bool locked = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	}
        	locked = probe(kvm);
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return -EAGAIN;
        }
    """)
    assert ("lock-leak", 13) in pairs(found)


def test_flag_cleared_after_unlock_then_tested_again(check):
    found = check("""
        static int twice(struct kvm *kvm, bool want)
        {
        	bool locked = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	}
        	if (locked) {
        		mutex_unlock(&kvm->lock);
        		locked = false;
        	}
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    assert balance(found) == []


def test_flag_reassigned_to_the_other_constant_still_leaks(check):
    found = check("""
        static int forgot(struct kvm *kvm, bool want)
        {
        	bool locked = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	}
        	locked = false;
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return -EIO;
        }
    """)
    assert ("lock-leak", 13) in pairs(found)


def test_flag_that_does_not_guard_the_unlock_still_leaks(check):
    found = check("""
        static int wrong_flag(struct kvm *kvm, bool want)
        {
        	bool locked = false, dirty = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	}
        	if (check_dirty(kvm))
        		dirty = true;
        	if (dirty) {
        		mutex_unlock(&kvm->lock);
        		return 0;
        	}
        	return -EINVAL;
        }
    """)
    assert ("lock-leak", 16) in pairs(found)


def test_flag_set_without_the_lock_on_the_other_branch_still_leaks(check):
    found = check("""
        static int both(struct kvm *kvm, bool want)
        {
        	bool locked = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	} else {
        		locked = true;
        	}
        	if (!locked)
        		return -EINVAL;
        	mutex_unlock(&kvm->lock);
        	return -EIO;
        }
    """)
    # `locked` is true on both paths: it says nothing about the lock, which is not held on
    # the `else` path. Neither return leaks; the unlock is of a lock held on some paths only.
    assert balance(found) == []
    found = check("""
        static int both(struct kvm *kvm, bool want)
        {
        	bool locked = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	} else {
        		locked = true;
        	}
        	if (locked)
        		return -EINVAL;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    assert ("lock-leak", 13) in pairs(found)


def test_flag_passed_to_a_macro_that_assigns_it_is_forgotten(check):
    found = check("""
        static int from_user(struct kvm *kvm, u32 __user *p, bool want)
        {
        	u32 locked = 0;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = 1;
        	}
        	get_user(locked, p);
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return -EFAULT;
        }
    """)
    assert ("lock-leak", 13) in pairs(found)


def test_flag_whose_address_is_taken_is_forgotten(check):
    found = check("""
        static int via_pointer(struct kvm *kvm, bool want)
        {
        	bool locked = false;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	}
        	update_flag(&locked);
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return -EIO;
        }
    """)
    assert ("lock-leak", 13) in pairs(found)


def test_condition_text_reassigned_in_its_own_branch_is_not_a_tag(check):
    """`if (!locked) { locked = true; lock; }`: the lock is not held "when !locked"."""
    found = check("""
        static int once(struct kvm *kvm, bool locked)
        {
        	if (!locked) {
        		locked = true;
        		mutex_lock(&kvm->lock);
        	}
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return -EINVAL;
        }
    """)
    assert balance(found) == []


def test_shadowing_declaration_does_not_leak_its_facts(check):
    found = check("""
        static int shadow(struct kvm *kvm, bool on)
        {
        	mutex_lock(&kvm->lock);
        	{
        		bool on = true;

        		use(on);
        	}
        	if (!on)
        		return -EINVAL;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    # The inner `on` is another variable: what is known about it says nothing about the
    # parameter once its block ends.
    assert ("lock-leak", 11) in pairs(found)


# --- loop-invariant conditions ------------------------------------------------------------


def test_invariant_early_return_in_a_loop_does_not_leak(check):
    found = check("""
        static int scan(struct kvm *kvm, struct item_list *items, bool nowait)
        {
        	struct item *it;
        	int busy = 0;

        	list_for_each_entry(it, &items->head, link) {
        		if (nowait)
        			return -EAGAIN;
        		if (!busy) {
        			spin_lock(&kvm->mmu_lock);
        			busy = 1;
        		}
        		visit(kvm, it);
        	}
        	if (busy)
        		spin_unlock(&kvm->mmu_lock);
        	return 0;
        }
    """)
    assert balance(found) == []


def test_invariant_local_early_return_in_a_for_loop(check):
    found = check("""
        static int walk(struct kvm *kvm, int n)
        {
        	bool readonly = kvm_is_readonly(kvm);
        	int i, locked = 0;

        	for (i = 0; i < n; i++) {
        		if (readonly || n > KVM_MAX_ITEMS)
        			return -EPERM;
        		if (!locked) {
        			locked = 1;
        			mutex_lock(&kvm->slots_lock);
        		}
        		touch(kvm, i);
        	}
        	if (locked)
        		mutex_unlock(&kvm->slots_lock);
        	return 0;
        }
    """)
    assert balance(found) == []


def test_partly_invariant_condition_still_leaks(check):
    """`readonly && i > 0` is false on the first iteration (which takes the lock) and may be
    true on the next: a real leak."""
    found = check("""
        static int walk(struct kvm *kvm, int n)
        {
        	bool readonly = kvm_is_readonly(kvm);
        	int i, locked = 0;

        	for (i = 0; i < n; i++) {
        		if (readonly && i > 0)
        			return -EPERM;
        		if (!locked) {
        			locked = 1;
        			mutex_lock(&kvm->slots_lock);
        		}
        		touch(kvm, i);
        	}
        	if (locked)
        		mutex_unlock(&kvm->slots_lock);
        	return 0;
        }
    """)
    assert ("lock-leak", 9) in pairs(found)


def test_condition_assigned_in_the_loop_still_leaks(check):
    found = check("""
        static int scan(struct kvm *kvm, struct item_list *items)
        {
        	struct item *it;
        	bool locked = false, stop = false;

        	list_for_each_entry(it, &items->head, link) {
        		if (stop)
        			return -EBUSY;
        		if (!locked) {
        			spin_lock(&kvm->mmu_lock);
        			locked = true;
        		}
        		stop = visit(kvm, it);
        	}
        	if (locked)
        		spin_unlock(&kvm->mmu_lock);
        	return 0;
        }
    """)
    assert ("lock-leak", 9) in pairs(found)


def test_condition_set_to_a_constant_in_the_loop_still_leaks(check):
    found = check("""
        static int scan(struct kvm *kvm, int n)
        {
        	int i, stop = 0;

        	for (i = 0; i < n; i++) {
        		if (stop)
        			return -EBUSY;
        		mutex_lock(&kvm->lock);
        		if (full(kvm, i)) {
        			stop = 1;
        			continue;
        		}
        		mutex_unlock(&kvm->lock);
        	}
        	return 0;
        }
    """)
    assert ("lock-leak", 8) in pairs(found)


def test_invariant_test_after_the_lock_in_the_loop_still_leaks(check):
    """The lock taken before the test on this very iteration is held at the return."""
    found = check("""
        static int scan(struct kvm *kvm, int n, bool nowait)
        {
        	int i;

        	for (i = 0; i < n; i++) {
        		mutex_lock(&kvm->lock);
        		if (nowait)
        			return -EAGAIN;
        		mutex_unlock(&kvm->lock);
        	}
        	return 0;
        }
    """)
    assert ("lock-leak", 9) in pairs(found)


def test_split_lock_on_an_else_branch_under_likely(check):
    found = check("""
        static void copy_split(struct kvm_vcpu *v, struct cache *one, struct cache *two,
        		       unsigned long len2, bool atomic)
        {
        	unsigned long flags;

        	read_lock_irqsave(&one->lock, flags);
        	if (likely(!len2)) {
        		fill(one);
        	} else {
        		if (atomic) {
        			if (!read_trylock(&two->lock)) {
        				read_unlock_irqrestore(&one->lock, flags);
        				return;
        			}
        		} else {
        			read_lock(&two->lock);
        		}
        		if (!cache_valid(two, len2)) {
        			read_unlock(&two->lock);
        			read_unlock_irqrestore(&one->lock, flags);
        			return;
        		}
        		fill_split(one, two, len2);
        	}
        	if (len2)
        		read_unlock(&two->lock);
        	read_unlock_irqrestore(&one->lock, flags);
        }
    """)
    assert balance(found) == []


def test_flag_written_by_inline_assembly_is_forgotten(check):
    found = check("""
        static int by_asm(struct kvm *kvm, unsigned long v)
        {
        	bool failed = false;

        	mutex_lock(&kvm->lock);
        	asm volatile("bt %2, %1" : "=@ccc"(failed) : "r"(v), "r"(3));
        	if (failed)
        		return -EIO;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    # `failed` is whatever the assembly left in it: the early return is a path.
    assert ("lock-leak", 9) in pairs(found)


def test_flag_whose_address_was_taken_earlier_is_never_known(check):
    found = check("""
        static int via_alias(struct kvm *kvm, bool want)
        {
        	bool locked = false;
        	bool *lp = &locked;

        	if (want) {
        		mutex_lock(&kvm->lock);
        		locked = true;
        	}
        	set_flag(lp);
        	if (locked)
        		mutex_unlock(&kvm->lock);
        	return -EIO;
        }
    """)
    assert ("lock-leak", 14) in pairs(found)


def test_loop_that_does_not_settle_keeps_no_facts(check):
    """Each iteration passes `true` one variable further: more rounds than the loop bound."""
    found = check("""
        static int chain(struct kvm *kvm, int n)
        {
        	bool a = false, b = false, c = false, d = false;

        	mutex_lock(&kvm->lock);
        	while (n--) {
        		if (c)
        			d = true;
        		if (b)
        			c = true;
        		if (a)
        			b = true;
        		a = true;
        	}
        	if (d)
        		return -EIO;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    assert ("lock-leak", 17) in pairs(found)


def test_backward_goto_that_does_not_settle_keeps_no_facts(check):
    found = check("""
        static int chain(struct kvm *kvm, int n)
        {
        	bool a = false, b = false, c = false, d = false;

        	mutex_lock(&kvm->lock);
        again:
        	if (c)
        		d = true;
        	if (b)
        		c = true;
        	if (a)
        		b = true;
        	a = true;
        	if (n--)
        		goto again;
        	if (d)
        		return -EIO;
        	mutex_unlock(&kvm->lock);
        	return 0;
        }
    """)
    assert ("lock-leak", 18) in pairs(found)
