"""Which definitions a call reaches: names, statics, headers, ops tables, handler arrays."""

from __future__ import annotations

from interproc_helpers import records

from kvmlock.interproc.binding import CallResolver

FILES = {
    "arch/x86/kvm/vmx/vmx.c": """
        static int handle_io(struct kvm_vcpu *vcpu) { return 1; }
        static int handle_hlt(struct kvm_vcpu *vcpu) { return 1; }
        static void vmx_run(struct kvm_vcpu *vcpu) { }
        static void vmx_pmu_refresh(struct kvm_vcpu *vcpu) { }
        static void vmx_nested_leave(struct kvm_vcpu *vcpu) { }

        static int (*const kvm_vmx_exit_handlers[])(struct kvm_vcpu *vcpu) = {
        	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
        	[EXIT_REASON_HLT] = handle_hlt,
        };

        struct kvm_x86_ops vmx_x86_ops __initdata = {
        	.name = "kvm_intel",
        	.vcpu_run = vmx_run,
        };
        struct kvm_pmu_ops intel_pmu_ops __initdata = { .refresh = vmx_pmu_refresh };
        struct kvm_x86_nested_ops vmx_nested_ops = { .leave_nested = vmx_nested_leave };
    """,
    "arch/x86/kvm/svm/svm.c": """
        static void svm_run(struct kvm_vcpu *vcpu) { }

        static struct kvm_x86_ops svm_x86_ops __initdata = { .vcpu_run = svm_run };
    """,
    "virt/kvm/kvm_main.c": """
        static void kvm_release(struct inode *inode) { }
        void kvm_shared(void) { }

        static const struct file_operations kvm_vcpu_fops = { .release = kvm_release };
    """,
    "include/linux/kvm_host.h": """
        static inline void kvm_inline_helper(void) { }
    """,
}


def _names(resolver: CallResolver, path: str, callee: str) -> list[str]:
    return sorted(key[1] for key in resolver.resolve(path, callee).keys)


def test_tables_resolve_to_every_assigned_function() -> None:
    resolver = CallResolver(records(FILES))
    here = "arch/x86/kvm/x86.c"
    assert _names(resolver, here, "static_call(kvm_x86_vcpu_run)") == ["svm_run", "vmx_run"]
    assert _names(resolver, here, "static_call_cond(kvm_x86_vcpu_run)") == ["svm_run", "vmx_run"]
    assert _names(resolver, here, "kvm_x86_call(vcpu_run)") == ["svm_run", "vmx_run"]
    assert _names(resolver, here, "kvm_x86_ops.vcpu_run") == ["svm_run", "vmx_run"]
    assert _names(resolver, here, "static_call(kvm_x86_pmu_refresh)") == ["vmx_pmu_refresh"]
    assert _names(resolver, here, "kvm_x86_ops.nested_ops->leave_nested") == ["vmx_nested_leave"]
    assert _names(resolver, here, "file->f_op->release") == []  # not named *ops*: unknown
    assert _names(resolver, here, "fops->release") == ["kvm_release"]
    vmx = "arch/x86/kvm/vmx/vmx.c"
    assert _names(resolver, vmx, "kvm_vmx_exit_handlers[reason]") == ["handle_hlt", "handle_io"]
    assert resolver.resolve(vmx, "kvm_vmx_exit_handlers[reason]").table == (
        "kvm_vmx_exit_handlers[]"
    )


def test_names_bind_static_first_then_global_then_header_inlines() -> None:
    resolver = CallResolver(records(FILES))
    assert _names(resolver, "arch/x86/kvm/x86.c", "kvm_shared") == ["kvm_shared"]
    assert _names(resolver, "arch/x86/kvm/x86.c", "kvm_inline_helper") == ["kvm_inline_helper"]
    assert _names(resolver, "arch/x86/kvm/x86.c", "handle_io") == []  # static elsewhere
    assert _names(resolver, "arch/x86/kvm/x86.c", "unknown_function") == []
    assert not resolver.resolve("x.c", "kvm_shared").through_table
