"""The lock API table (queries/lock_api.toml): its rows are consistent, and the rows added by
the audit against KVM's real lock calls behave as their action says in kernel-style code."""

from __future__ import annotations

import re
import textwrap
import tomllib
from dataclasses import replace

import pytest
from analysis_fixtures import DOC, RULES, run

from kvmlock.analysis.engine import analyse_functions
from kvmlock.analysis.lockapi import lock_api
from kvmlock.interproc.records import file_record
from kvmlock.interproc.workspace import Workspace
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.rules.model import Citation, OrderRule
from kvmlock.syntax.document import parse_document
from kvmlock.syntax.words import queries_dir

ORDERS = Citation(DOC, 17, "1. Acquisition Orders")  # of a fixture text, not the kernel's
ACTIONS = {"acquire", "release", "try", "cond", "assert", "sync", "downgrade"}
TAKES = {"acquire", "try", "cond"}

# --- the rows added by the audit, each with a call in context -----------------------------
#
# `take` takes the lock `&d->lk` (or kvm->srcu) and `drop` releases it; at least one of the
# two is the row under test, the other is its usual partner.

NEW_ACQUIRE = {
    "mutex_lock_io_nested": ("mutex_lock_io_nested(&d->lk, 1)", "mutex_unlock(&d->lk)"),
    "mutex_lock_nest_lock": ("mutex_lock_nest_lock(&d->lk, &d->outer)", "mutex_unlock(&d->lk)"),
    "spin_lock_nest_lock": ("spin_lock_nest_lock(&d->lk, &d->outer)", "spin_unlock(&d->lk)"),
    "raw_spin_lock_nest_lock": (
        "raw_spin_lock_nest_lock(&d->lk, &d->outer)",
        "raw_spin_unlock(&d->lk)",
    ),
    "raw_spin_lock_irqsave_nested": (
        "raw_spin_lock_irqsave_nested(&d->lk, flags, SINGLE_DEPTH_NESTING)",
        "raw_spin_unlock_irqrestore(&d->lk, flags)",
    ),
    "_raw_spin_lock": ("_raw_spin_lock(&d->lk)", "raw_spin_unlock(&d->lk)"),
    "_raw_spin_lock_irq": ("_raw_spin_lock_irq(&d->lk)", "raw_spin_unlock_irq(&d->lk)"),
    "_raw_spin_lock_irqsave": (
        "flags = _raw_spin_lock_irqsave(&d->lk)",
        "raw_spin_unlock_irqrestore(&d->lk, flags)",
    ),
    "_raw_spin_lock_bh": ("_raw_spin_lock_bh(&d->lk)", "raw_spin_unlock_bh(&d->lk)"),
    "arch_spin_lock": ("arch_spin_lock(&d->lk)", "arch_spin_unlock(&d->lk)"),
    "write_lock_nested": ("write_lock_nested(&d->lk, 1)", "write_unlock(&d->lk)"),
    "down_read_non_owner": ("down_read_non_owner(&d->lk)", "up_read_non_owner(&d->lk)"),
    "down_write_nest_lock": ("down_write_nest_lock(&d->lk, &d->outer)", "up_write(&d->lk)"),
    "percpu_down_read": ("percpu_down_read(&d->lk)", "percpu_up_read(&d->lk)"),
    "percpu_down_write": ("percpu_down_write(&d->lk)", "percpu_up_write(&d->lk)"),
}
NEW_SRCU = {
    "srcu_read_lock_nmisafe": (
        "idx = srcu_read_lock_nmisafe(&kvm->srcu)",
        "srcu_read_unlock_nmisafe(&kvm->srcu, idx)",
    ),
    "srcu_read_lock_notrace": (
        "idx = srcu_read_lock_notrace(&kvm->srcu)",
        "srcu_read_unlock_notrace(&kvm->srcu, idx)",
    ),
    "srcu_read_lock_fast": (
        "scp = srcu_read_lock_fast(&kvm->srcu)",
        "srcu_read_unlock_fast(&kvm->srcu, scp)",
    ),
    "srcu_read_lock_fast_notrace": (
        "scp = srcu_read_lock_fast_notrace(&kvm->srcu)",
        "srcu_read_unlock_fast_notrace(&kvm->srcu, scp)",
    ),
    "srcu_down_read": ("idx = srcu_down_read(&kvm->srcu)", "srcu_up_read(&kvm->srcu, idx)"),
    "srcu_down_read_fast": (
        "scp = srcu_down_read_fast(&kvm->srcu)",
        "srcu_up_read_fast(&kvm->srcu, scp)",
    ),
}
# Release rows, each after a plain acquire of the same kind.
NEW_RELEASE = {
    "_raw_spin_unlock": ("raw_spin_lock(&d->lk)", "_raw_spin_unlock(&d->lk)"),
    "_raw_spin_unlock_irq": ("raw_spin_lock_irq(&d->lk)", "_raw_spin_unlock_irq(&d->lk)"),
    "_raw_spin_unlock_irqrestore": (
        "raw_spin_lock_irqsave(&d->lk, flags)",
        "_raw_spin_unlock_irqrestore(&d->lk, flags)",
    ),
    "_raw_spin_unlock_bh": ("raw_spin_lock_bh(&d->lk)", "_raw_spin_unlock_bh(&d->lk)"),
    "arch_spin_unlock": ("raw_spin_lock(&d->lk)", "arch_spin_unlock(&d->lk)"),
    "up_read_non_owner": ("down_read(&d->lk)", "up_read_non_owner(&d->lk)"),
    "percpu_up_read": ("percpu_down_read(&d->lk)", "percpu_up_read(&d->lk)"),
    "percpu_up_write": ("percpu_down_write(&d->lk)", "percpu_up_write(&d->lk)"),
    "srcu_read_unlock_nmisafe": (
        "idx = srcu_read_lock(&kvm->srcu)",
        "srcu_read_unlock_nmisafe(&kvm->srcu, idx)",
    ),
    "srcu_read_unlock_notrace": (
        "idx = srcu_read_lock(&kvm->srcu)",
        "srcu_read_unlock_notrace(&kvm->srcu, idx)",
    ),
    "srcu_read_unlock_fast": (
        "scp = srcu_read_lock_fast(&kvm->srcu)",
        "srcu_read_unlock_fast(&kvm->srcu, scp)",
    ),
    "srcu_read_unlock_fast_notrace": (
        "scp = srcu_read_lock_fast(&kvm->srcu)",
        "srcu_read_unlock_fast_notrace(&kvm->srcu, scp)",
    ),
    "srcu_up_read": ("idx = srcu_down_read(&kvm->srcu)", "srcu_up_read(&kvm->srcu, idx)"),
    "srcu_up_read_fast": (
        "scp = srcu_down_read_fast(&kvm->srcu)",
        "srcu_up_read_fast(&kvm->srcu, scp)",
    ),
}
# try: true when taken; cond: 0 when taken.
NEW_TRY = {
    "mutex_trylock_nest_lock": (
        "mutex_trylock_nest_lock(&d->lk, &d->outer)",
        "mutex_unlock(&d->lk)",
    ),
    "spin_trylock_bh": ("spin_trylock_bh(&d->lk)", "spin_unlock_bh(&d->lk)"),
    "raw_spin_trylock_irq": ("raw_spin_trylock_irq(&d->lk)", "raw_spin_unlock_irq(&d->lk)"),
    "raw_spin_trylock_bh": ("raw_spin_trylock_bh(&d->lk)", "raw_spin_unlock_bh(&d->lk)"),
    "_raw_spin_trylock": ("_raw_spin_trylock(&d->lk)", "raw_spin_unlock(&d->lk)"),
    "arch_spin_trylock": ("arch_spin_trylock(&d->lk)", "arch_spin_unlock(&d->lk)"),
    "write_trylock_irqsave": (
        "write_trylock_irqsave(&d->lk, flags)",
        "write_unlock_irqrestore(&d->lk, flags)",
    ),
    "percpu_down_read_trylock": ("percpu_down_read_trylock(&d->lk)", "percpu_up_read(&d->lk)"),
}
NEW_COND = {
    "mutex_lock_killable_nest_lock": (
        "mutex_lock_killable_nest_lock(&d->lk, &d->outer)",
        "mutex_unlock(&d->lk)",
    ),
    "down_read_killable_nested": ("down_read_killable_nested(&d->lk, 1)", "up_read(&d->lk)"),
    "down_write_killable_nested": ("down_write_killable_nested(&d->lk, 1)", "up_write(&d->lk)"),
}
NEW_ASSERT = {"percpu_rwsem_assert_held"}

NEW_ROWS = {
    **{name: "acquire" for name in (*NEW_ACQUIRE, *NEW_SRCU)},
    **{name: "release" for name in NEW_RELEASE},
    **{name: "try" for name in NEW_TRY},
    **{name: "cond" for name in NEW_COND},
    **{name: "assert" for name in NEW_ASSERT},
}

HEAD = """\
static int demo(struct demo *d, struct kvm *kvm, int x)
{
	unsigned long flags;
	void *scp;
	int idx;

"""


def body(lines: str) -> str:
    """A function of ours around `lines` (one statement a line, tab-indented); its first
    statement is on line 7."""
    return HEAD + textwrap.indent(textwrap.dedent(lines).strip("\n"), "\t") + "\n}\n"


def found(lines: str, rules=RULES) -> list[tuple[str, int]]:
    return [(f.rule, f.span.line) for f in run(body(lines), rules=rules)]


def _rows_in_file() -> list[dict]:
    return tomllib.loads((queries_dir() / "lock_api.toml").read_text(encoding="utf-8"))[
        "functions"
    ]


# --- (1) the new rows, one by one -----------------------------------------------------------


def test_every_new_row_is_in_the_table_with_its_action():
    functions = lock_api().functions
    assert {name: functions[name].action for name in NEW_ROWS if name in functions} == NEW_ROWS


@pytest.mark.parametrize("name", sorted({**NEW_ACQUIRE, **NEW_SRCU}))
def test_acquire_row_is_balanced_by_its_release(name):
    take, drop = {**NEW_ACQUIRE, **NEW_SRCU}[name]
    assert found(f"{take};\n{drop};\nreturn 0;") == []


@pytest.mark.parametrize("name", sorted({**NEW_ACQUIRE, **NEW_SRCU}))
def test_acquire_row_leaks_on_an_early_return(name):
    take, drop = {**NEW_ACQUIRE, **NEW_SRCU}[name]
    code = f"""
        {take};
        if (x)
        	return -EINVAL;
        {drop};
        return 0;
    """
    assert found(code) == [("lock-leak", 9)]


@pytest.mark.parametrize("name", sorted(NEW_ACQUIRE))
def test_acquire_row_taken_twice_is_a_double_lock_only_without_nesting(name):
    take, drop = NEW_ACQUIRE[name]
    entry = lock_api().functions[name]
    expected = [] if entry.nested or lock_api().kind(entry.kind).shared else [("double-lock", 8)]
    assert found(f"{take};\n{take};\n{drop};\n{drop};\nreturn 0;") == expected


def test_double_lock_expectations_cover_both_outcomes():
    """The parametrised double-lock test above sees nested rows, shared kinds and plain
    exclusive rows alike."""
    entries = [lock_api().functions[name] for name in NEW_ACQUIRE]
    assert any(e.nested for e in entries)
    assert any(not e.nested and not lock_api().kind(e.kind).shared for e in entries)
    assert any(not e.nested and lock_api().kind(e.kind).shared for e in entries)


@pytest.mark.parametrize("name", sorted(NEW_SRCU))
def test_srcu_row_opens_a_kvm_srcu_read_side_section(name):
    take, drop = NEW_SRCU[name]
    code = f"""
        {take};
        mutex_lock(&kvm->lock);
        mutex_unlock(&kvm->lock);
        {drop};
        return 0;
    """
    assert found(code) == [("srcu-order", 8)]


@pytest.mark.parametrize("name", sorted(NEW_RELEASE))
def test_release_row_drops_the_lock(name):
    take, drop = NEW_RELEASE[name]
    assert found(f"{take};\n{drop};\nreturn 0;") == []
    assert found(f"{take};\n{drop};\n{drop};\nreturn 0;") == [("unlock-unheld", 9)]


@pytest.mark.parametrize("name", sorted(NEW_TRY))
def test_try_row_holds_the_lock_when_it_returns_true(name):
    take, drop = NEW_TRY[name]
    assert found(f"if (!{take})\n\treturn -EBUSY;\n{drop};\nreturn 0;") == []
    assert found(f"if ({take}) {{\n\t{drop};\n\treturn 0;\n}}\nreturn -EBUSY;") == []
    leak = f"""
        if (!{take})
        	return -EBUSY;
        if (x)
        	return -EINVAL;
        {drop};
        return 0;
    """
    assert found(leak) == [("lock-leak", 10)]


@pytest.mark.parametrize("name", sorted(NEW_COND))
def test_cond_row_holds_the_lock_when_it_returns_zero(name):
    take, drop = NEW_COND[name]
    assert found(f"if ({take})\n\treturn -EINTR;\n{drop};\nreturn 0;") == []
    assert found(f"int r = {take};\n\nif (r)\n\treturn r;\n{drop};\nreturn 0;") == []
    leak = f"""
        if ({take})
        	return -EINTR;
        if (x)
        	return -EINVAL;
        {drop};
        return 0;
    """
    assert found(leak) == [("lock-leak", 10)]


@pytest.mark.parametrize("name", sorted(NEW_COND))
def test_nested_cond_row_taken_again_is_not_a_double_lock(name):
    take, drop = NEW_COND[name]
    code = f"""
        if ({take})
        	return -EINTR;
        if ({take}) {{
        	{drop};
        	return -EINTR;
        }}
        {drop};
        {drop};
        return 0;
    """
    assert found(code) == []


# A percpu_rw_semaphore of ours documented inside kvm->lock.
SEM_INSIDE_KVM_LOCK = replace(
    RULES, rules=[*RULES.rules, OrderRule(ORDERS, None, outer="kvm->lock", inner="demo->lk")]
)


@pytest.mark.parametrize("name", sorted(NEW_ASSERT))
def test_assert_row_means_held_on_entry(name):
    code = f"""
        {name}(&d->lk);
        mutex_lock(&kvm->lock);
        mutex_unlock(&kvm->lock);
        return 0;
    """
    assert found(code, rules=SEM_INSIDE_KVM_LOCK) == [("lock-order", 8)]
    # Asserted, not taken: dropping it is the caller's lock let go, not an unheld unlock.
    assert found(f"{name}(&d->lk);\npercpu_up_write(&d->lk);\nreturn 0;") == []


def test_sleeping_and_spinning_kinds_of_the_new_families():
    """percpu_rw_semaphore sleeps; arch_spinlock_t and the _raw_spin_* functions spin."""
    assert found("""
        spin_lock(&d->sp);
        percpu_down_read(&d->lk);
        percpu_up_read(&d->lk);
        spin_unlock(&d->sp);
        return 0;
    """) == [("sleep-in-atomic", 8)]
    assert found("""
        arch_spin_lock(&d->lk);
        mutex_lock(&d->m);
        mutex_unlock(&d->m);
        arch_spin_unlock(&d->lk);
        _raw_spin_lock(&d->lk);
        mutex_lock(&d->m);
        mutex_unlock(&d->m);
        _raw_spin_unlock(&d->lk);
        return 0;
    """) == [("sleep-in-atomic", 8), ("sleep-in-atomic", 12)]


# --- (2) the table itself -------------------------------------------------------------------


def test_no_function_is_listed_twice():
    names = [row["name"] for row in _rows_in_file()]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_every_row_uses_only_known_keys():
    """A misspelt key (`nestd = true`) would be dropped without a word by the loader."""
    known = {"name", "action", "kind", "arg", "class", "via", "nested", "field"}
    assert [row["name"] for row in _rows_in_file() if set(row) - known] == []


def test_every_row_has_a_known_action_and_kind():
    api = lock_api()
    for entry in api.functions.values():
        assert entry.action in ACTIONS, entry.name
        if entry.action == "assert":
            assert entry.kind == "" or entry.kind in api.kinds, entry.name
        else:
            assert entry.kind in api.kinds, entry.name


def test_every_row_names_its_lock_by_argument_or_class():
    for entry in lock_api().functions.values():
        if entry.lock_class:
            assert entry.arg == -1, entry.name
        else:
            assert entry.arg >= 0, entry.name


def test_every_released_kind_can_be_taken_and_every_taken_kind_released():
    entries = lock_api().functions.values()
    taken = {e.kind for e in entries if e.action in TAKES}
    released = {e.kind for e in entries if e.action == "release"}
    assert released <= taken
    assert taken <= released


def test_nest_lock_and_nested_rows_are_nested_and_take_their_first_argument():
    for entry in lock_api().functions.values():
        nesting_name = bool(re.search(r"_nest(ed|_lock)$", entry.name))
        assert entry.nested == nesting_name, entry.name
        if nesting_name:
            assert entry.action in TAKES and entry.arg == 0, entry.name


def test_every_guard_kind_is_a_kind():
    api = lock_api()
    assert {g.kind for g in api.guards.values()} <= set(api.kinds)


# --- realistic: all vCPUs locked under kvm->lock ---------------------------------------------

UNLOCK_FIRST_VCPUS = """
static void demo_unlock_vcpus(struct kvm *kvm, unsigned long n)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (i == n)
			break;
		mutex_unlock(&vcpu->mutex);
	}
}
"""

SET_ALL_VCPUS = UNLOCK_FIRST_VCPUS + """
static int demo_set_all_vcpus(struct kvm *kvm, u64 val)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;
	int r = 0;

	mutex_lock(&kvm->lock);
	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (mutex_lock_killable_nest_lock(&vcpu->mutex, &kvm->lock)) {
			demo_unlock_vcpus(kvm, i);
			r = -EINTR;
			goto out_unlock;
		}
	}

	mutex_lock(&kvm->slots_lock);
	kvm_for_each_vcpu(i, vcpu, kvm)
		demo_apply(vcpu, val);
	mutex_unlock(&kvm->slots_lock);

	kvm_for_each_vcpu(i, vcpu, kvm)
		mutex_unlock(&vcpu->mutex);
out_unlock:
	mutex_unlock(&kvm->lock);
	return r;
}
"""

# The same with kvm->slots_lock taken before the vCPUs' mutexes.
SET_ALL_VCPUS_INSIDE_SLOTS = UNLOCK_FIRST_VCPUS + """
static int demo_set_all_vcpus_late(struct kvm *kvm, u64 val)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;
	int r = 0;

	mutex_lock(&kvm->lock);
	mutex_lock(&kvm->slots_lock);
	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (mutex_lock_killable_nest_lock(&vcpu->mutex, &kvm->lock)) {
			demo_unlock_vcpus(kvm, i);
			r = -EINTR;
			goto out_unlock;
		}
	}

	kvm_for_each_vcpu(i, vcpu, kvm)
		demo_apply(vcpu, val);

	kvm_for_each_vcpu(i, vcpu, kvm)
		mutex_unlock(&vcpu->mutex);
out_unlock:
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&kvm->lock);
	return r;
}
"""


def line_of(code: str, needle: str) -> int:
    return next(n for n, line in enumerate(code.splitlines(), 1) if needle in line)


def through_calls(code: str, rules) -> list[tuple[str, str, int]]:
    """Findings of the whole pipeline, calls included, for one file of ours."""
    doc = parse_document("virt/kvm/demo.c", textwrap.dedent(code).encode())
    workspace = Workspace(lambda _path: rules)
    workspace.set_file(file_record(doc, analyse_functions(doc, rules)))
    return [(f.rule, f.function, f.span.line) for f in workspace.findings()]


# The order of newer locking.rst texts (not in the built-in pack, which has no fact relating
# vCPU mutexes and the memslot mutex): each vCPU's mutex outside kvm->slots_lock.
VCPU_OUTSIDE_SLOTS = replace(
    RULES,
    rules=[*RULES.rules, OrderRule(ORDERS, None, outer="vcpu->mutex", inner="kvm->slots_lock")],
)


def test_locking_all_vcpus_then_the_memslot_mutex_is_clean():
    """kvm->lock, then every vCPU's mutex (nest_lock: the same class many times on purpose),
    then kvm->slots_lock: the built-in pack says nothing about the last pair, and the newer
    order allows it."""
    assert run(SET_ALL_VCPUS, rules=builtin_rule_base()) == []
    assert run(SET_ALL_VCPUS, rules=VCPU_OUTSIDE_SLOTS) == []
    assert through_calls(SET_ALL_VCPUS, builtin_rule_base()) == []


def test_locking_all_vcpus_inside_the_memslot_mutex_breaks_the_newer_order():
    code = SET_ALL_VCPUS_INSIDE_SLOTS
    # The built-in pack has no fact against it ...
    assert run(code, rules=builtin_rule_base()) == []
    # ... the newer order does, at the nest_lock call, while the memslot mutex is held.
    findings = run(code, rules=VCPU_OUTSIDE_SLOTS)
    assert [(f.rule, f.function, f.span.line) for f in findings] == [
        ("lock-order", "demo_set_all_vcpus_late", line_of(code, "nest_lock("))
    ]
    assert findings[0].message.startswith(
        "mutex_lock_killable_nest_lock(&vcpu->mutex, &kvm->lock) while holding kvm->slots_lock"
    )


def test_taking_kvm_lock_after_the_vcpus_breaks_the_builtin_order():
    """The nest_lock call needs kvm->lock held already; taking it afterwards inverts the
    documented kvm->lock -> vcpu->mutex order, which only shows if the call is a lock."""
    code = """
        static int demo_late(struct kvm *kvm)
        {
        	struct kvm_vcpu *vcpu;
        	unsigned long i;

        	kvm_for_each_vcpu(i, vcpu, kvm)
        		mutex_lock_nest_lock(&vcpu->mutex, &kvm->lock);
        	mutex_lock(&kvm->lock);
        	demo_update(kvm);
        	mutex_unlock(&kvm->lock);
        	kvm_for_each_vcpu(i, vcpu, kvm)
        		mutex_unlock(&vcpu->mutex);
        	return 0;
        }
    """
    findings = run(code, rules=builtin_rule_base())
    assert [(f.rule, f.span.line) for f in findings] == [("lock-order", 9)]
    assert "while holding vcpu->mutex (line 8)" in findings[0].message


def test_callers_of_a_lock_all_vcpus_helper_see_the_vcpu_mutexes():
    """Through a call: a helper that locks every vCPU with the nest_lock variant, called
    inside a kvm->srcu read-side section, takes vcpu->mutex where readers must not."""
    code = UNLOCK_FIRST_VCPUS + """
static int demo_lock_vcpus(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	lockdep_assert_held(&kvm->lock);
	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (mutex_lock_killable_nest_lock(&vcpu->mutex, &kvm->lock)) {
			demo_unlock_vcpus(kvm, i);
			return -EINTR;
		}
	}
	return 0;
}

int demo_reader(struct kvm *kvm)
{
	int idx, r;

	mutex_lock(&kvm->lock);
	idx = srcu_read_lock(&kvm->srcu);
	r = demo_lock_vcpus(kvm);
	if (!r)
		demo_unlock_vcpus(kvm, ULONG_MAX);
	srcu_read_unlock(&kvm->srcu, idx);
	mutex_unlock(&kvm->lock);
	return r;
}
"""
    assert through_calls(code, builtin_rule_base()) == [
        ("srcu-order", "demo_reader", line_of(code, "r = demo_lock_vcpus(kvm);"))
    ]


def test_a_lock_taken_when_the_last_reference_drops_and_an_xarray_lock():
    """refcount_dec_and_lock_irqsave() returns true holding its second argument; xa_lock and
    xa_unlock take the xarray's own xa_lock field: a helper asserting that field is met."""
    code = """\
static void demo_release_locked(struct demo_dist *dist, struct demo_irq *irq)
{
	lockdep_assert_held(&dist->irqs.xa_lock);
	__xa_erase(&dist->irqs, irq->intid);
}

void demo_put_irq(struct kvm *kvm, struct demo_irq *irq)
{
	struct demo_dist *dist = &kvm->arch.demo;
	unsigned long flags;

	if (refcount_dec_and_lock_irqsave(&irq->refcount, &dist->irqs.xa_lock, &flags)) {
		demo_release_locked(dist, irq);
		xa_unlock_irqrestore(&dist->irqs, flags);
	}
}

int demo_put_busy_irq(struct kvm *kvm, struct demo_irq *irq)
{
	struct demo_dist *dist = &kvm->arch.demo;
	unsigned long flags;

	if (refcount_dec_and_lock_irqsave(&irq->refcount, &dist->irqs.xa_lock, &flags)) {
		if (irq->busy) {
			xa_unlock_irqrestore(&dist->irqs, flags);
			return -EBUSY;
		}
		demo_release_locked(dist, irq);
		xa_unlock_irqrestore(&dist->irqs, flags);
	}
	return 0;
}

void demo_drop_all(struct kvm *kvm)
{
	struct demo_dist *dist = &kvm->arch.demo;

	xa_lock(&dist->irqs);
	demo_release_locked(dist, NULL);
	xa_unlock(&dist->irqs);
}
"""
    from kvmlock.interproc.workspace import analyse_with_calls
    from kvmlock.rules.builtin import builtin_rule_base
    from kvmlock.syntax.document import parse_document

    doc = parse_document("virt/kvm/demo.c", code.encode())
    assert analyse_with_calls(doc, builtin_rule_base()) == []
    leaking = code.replace(
        "\t\t\txa_unlock_irqrestore(&dist->irqs, flags);\n\t\t\treturn -EBUSY;",
        "\t\t\treturn -EBUSY;",
    )
    assert leaking != code
    found = analyse_with_calls(parse_document("virt/kvm/demo.c", leaking.encode()),
                               builtin_rule_base())
    assert [f.rule for f in found] == ["lock-leak"]
