"""Requirements passed up the call graph (issue 12, mechanism 7) and recursion through calls
(mechanism 8), on kernel-style fixtures of our own."""

from __future__ import annotations

import textwrap

from interproc_helpers import RULES

from kvmlock.interproc.workspace import analyse_with_calls
from kvmlock.syntax.document import parse_document


def findings(code: str, path: str = "arch/x86/kvm/mmu/demo.c"):
    doc = parse_document(path, textwrap.dedent(code).encode())
    return [(f.rule, f.span.line, f.message) for f in analyse_with_calls(doc, RULES)]


# The page-list spinlock needs the MMU rwlock (built-in pack, x86): a helper two calls down
# takes it, and neither helper says so (no lockdep_assert_held), so the requirement travels.
PAGES = """\
static void demo_link_page(struct kvm *kvm, struct demo_page *sp)
{
	spin_lock(&kvm->arch.tdp_mmu_pages_lock);
	list_add(&sp->link, &kvm->arch.demo_pages);
	spin_unlock(&kvm->arch.tdp_mmu_pages_lock);
}

static void demo_install(struct kvm *kvm, struct demo_page *sp)
{
	demo_link_page(kvm, sp);
}
"""


def test_a_requirement_travels_up_to_the_caller_that_manages_the_lock():
    found = findings(PAGES + """
int demo_map(struct kvm *kvm, struct demo_page *sp)
{
	demo_install(kvm, sp);
	write_lock(&kvm->mmu_lock);
	demo_refresh(kvm);
	write_unlock(&kvm->mmu_lock);
	return 0;
}
""")
    (hit,) = [f for f in found if f[0] == "requires-held"]
    assert hit[1] == 15  # the call in demo_map, which takes the MMU lock itself elsewhere
    assert "requires kvm->mmu_lock (via demo_install → demo_link_page" in hit[2]


def test_a_caller_holding_the_lock_meets_the_requirement():
    found = findings(PAGES + """
int demo_map(struct kvm *kvm, struct demo_page *sp)
{
	write_lock(&kvm->mmu_lock);
	demo_install(kvm, sp);
	write_unlock(&kvm->mmu_lock);
	return 0;
}
""")
    assert [f for f in found if f[0] in ("requires-held", "requires-outer")] == []


def test_a_conditional_assertion_is_a_requirement_on_some_paths_only():
    code = """\
static void demo_update(struct kvm *kvm)
{
	if (refcount_read(&kvm->users_count))
		lockdep_assert_held_write(&kvm->mmu_lock);
	kvm->demo_gen++;
}

static void demo_update_early(struct kvm *kvm)
{
	if (!kvm->created_vcpus)
		return;
	lockdep_assert_held_write(&kvm->mmu_lock);
	kvm->demo_gen++;
}

int demo_teardown(struct kvm *kvm)
{
	demo_update(kvm);
	demo_update_early(kvm);
	write_lock(&kvm->mmu_lock);
	kvm->demo_gen = 0;
	write_unlock(&kvm->mmu_lock);
	return 0;
}
"""
    doc = parse_document("arch/x86/kvm/mmu/demo.c", textwrap.dedent(code).encode())
    softened = [(f.span.line, f.severity) for f in analyse_with_calls(doc, RULES)]
    assert softened == [(18, "info"), (19, "info")]  # on some paths: a note, never a warning
    unconditional = code.replace(
        "\tif (refcount_read(&kvm->users_count))\n\t\tlockdep", "\tlockdep"
    )
    doc = parse_document("arch/x86/kvm/mmu/demo.c", textwrap.dedent(unconditional).encode())
    assert [(f.span.line, f.severity) for f in analyse_with_calls(doc, RULES)] == [
        (17, "warning"),
        (18, "info"),
    ]


# A VM attribute ioctl holds the per-VM event-channel lock and injects a timer, which takes
# that very lock again two calls down: lockdep's "possible recursive locking".
RECURSIVE = """\
static int demo_set_evtchn(struct demo_evtchn *e, struct kvm *kvm)
{
	mutex_lock(&kvm->arch.demo.evtchn_lock);
	e->pending = true;
	mutex_unlock(&kvm->arch.demo.evtchn_lock);
	return 0;
}

static void demo_inject_timer(struct kvm_vcpu *vcpu)
{
	struct demo_evtchn e;

	demo_set_evtchn(&e, vcpu->kvm);
}

int demo_vcpu_set_attr(struct kvm_vcpu *vcpu, struct demo_attr *data)
{
	int r = 0;

	mutex_lock(&vcpu->kvm->arch.demo.evtchn_lock);
	if (data->timer)
		demo_inject_timer(vcpu);
	mutex_unlock(&vcpu->kvm->arch.demo.evtchn_lock);
	return r;
}
"""


def test_a_lock_taken_again_through_calls_is_reported_at_the_call():
    (hit,) = [f for f in findings(RECURSIVE, "arch/x86/kvm/demo.c") if f[0] == "double-lock"]
    assert hit[1] == 22
    assert "takes vcpu->kvm->arch.demo.evtchn_lock again" in hit[2]
    assert "(via demo_inject_timer → demo_set_evtchn at demo.c:3)" in hit[2]
    assert "possible recursive locking" in hit[2]


def test_no_recursion_for_another_instance_a_nested_lock_or_a_dropped_one():
    other_vm = RECURSIVE.replace("demo_inject_timer(vcpu);", "demo_inject_other(vcpu);").replace(
        "static void demo_inject_timer(struct kvm_vcpu *vcpu)",
        "static void demo_inject_other(struct kvm_vcpu *vcpu)",
    ).replace("demo_set_evtchn(&e, vcpu->kvm);", "demo_set_evtchn(&e, vcpu->arch.peer);")
    assert [f for f in findings(other_vm, "arch/x86/kvm/demo.c") if f[0] == "double-lock"] == []
    nested = RECURSIVE.replace(
        "\tmutex_lock(&kvm->arch.demo.evtchn_lock);",
        "\tmutex_lock_nested(&kvm->arch.demo.evtchn_lock, 1);",
    )
    assert [f for f in findings(nested, "arch/x86/kvm/demo.c") if f[0] == "double-lock"] == []
    # The callee drops the caller's lock first and takes it back: no recursion.
    dropped = RECURSIVE.replace(
        "\tmutex_lock(&kvm->arch.demo.evtchn_lock);\n\te->pending = true;\n"
        "\tmutex_unlock(&kvm->arch.demo.evtchn_lock);\n",
        "\tmutex_unlock(&kvm->arch.demo.evtchn_lock);\n\te->pending = true;\n"
        "\tmutex_lock(&kvm->arch.demo.evtchn_lock);\n",
    )
    assert [f for f in findings(dropped, "arch/x86/kvm/demo.c") if f[0] == "double-lock"] == []
