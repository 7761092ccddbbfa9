from __future__ import annotations

import textwrap

from syntax_helpers import FIXTURES

from kvmlock.syntax.document import parse_document
from kvmlock.syntax.initialisers import file_struct_variables, ops_assignments, ops_members


def test_ops_members_from_fixture() -> None:
    path = FIXTURES / "kernel_style.c"
    doc = parse_document(str(path), path.read_bytes())
    members = ops_members(doc, ["mmu_notifier_ops", "file_operations", "kvm_x86_ops"])
    assert members == {
        "mmu_notifier_ops": {"demo_mn_invalidate_start", "demo_mn_release"},
        "file_operations": {"demo_copy", "noop_llseek"},
        "kvm_x86_ops": set(),
    }


def test_ops_assignments_carry_field_and_variable() -> None:
    src = (
        b"static struct kvm_x86_ops demo_x86_ops __initdata = {\n"
        b"\t.name = \"demo\",\n\t.vcpu_run = demo_vcpu_run,\n\t.hardware_enable = demo_enable,\n"
        b"\t.vm_size = sizeof(struct demo_vm),\n};\n"
    )
    doc = parse_document("o.c", src)
    got = [(a.struct_name, a.variable, a.field, a.function) for a in ops_assignments(doc)]
    assert got == [
        ("kvm_x86_ops", "demo_x86_ops", "vcpu_run", "demo_vcpu_run"),
        ("kvm_x86_ops", "demo_x86_ops", "hardware_enable", "demo_enable"),
    ]
    (first, _) = ops_assignments(doc, ["kvm_x86_ops"])
    assert doc.source[first.byte : first.byte + 13] == b"demo_vcpu_run"


def test_array_members_of_handler_tables() -> None:
    from kvmlock.syntax.initialisers import array_members

    src = (
        b"static int (*const kvm_demo_handlers[])(struct kvm_vcpu *vcpu) = {\n"
        b"\t[EXIT_REASON_IO] = handle_demo_io,\n\t[EXIT_REASON_HLT] = handle_demo_hlt,\n"
        b"\t[EXIT_REASON_NONE] = NULL,\n};\n"
        b"static demo_fn demo_table[] = { [0] = demo_first, };\n"
        b"static int demo_values[] = { [0] = 1, };\n"
    )
    doc = parse_document("a.c", src)
    assert [(m.array, m.function) for m in array_members(doc)] == [
        ("kvm_demo_handlers", "handle_demo_io"),
        ("kvm_demo_handlers", "handle_demo_hlt"),
        ("demo_table", "demo_first"),
    ]


def test_initialisers_of_arrays_and_nested_structs() -> None:
    doc = parse_document(
        "a.c",
        textwrap.dedent("""\
            static const struct kvm_demo_ext demo_table[2] = {
            	[0] = { .handler = demo_first },
            	[1] = { .handler = demo_second, .probe = NULL },
            };
            static struct kvm_demo_outer demo_outer = {
            	.inner = { .handler = demo_inner },
            	.inner.probe = demo_inner_probe,
            	.probe = demo_outer_probe,
            };
            static const struct kvm_demo_ext *const demo_ptrs[] = { &demo_ext_hsm };
            struct kvm_demo_ext *demo_lookup(unsigned long id);
            """).encode(),
    )
    assert [(a.struct_name, a.variable, a.field, a.function) for a in ops_assignments(doc)] == [
        ("kvm_demo_ext", "demo_table", "handler", "demo_first"),
        ("kvm_demo_ext", "demo_table", "handler", "demo_second"),
        # Inner fields belong to a struct whose type is not known here: left out.
        ("kvm_demo_outer", "demo_outer", "probe", "demo_outer_probe"),
    ]
    assert file_struct_variables(doc) == [
        ("demo_table", "kvm_demo_ext"),
        ("demo_outer", "kvm_demo_outer"),
        ("demo_ptrs", "kvm_demo_ext"),
    ]
