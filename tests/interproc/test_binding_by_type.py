"""Calls through a function-pointer field bound by the declared struct type of the base:
`const struct kvm_demo_ext *ext; ... ext->handler(vcpu)` reaches every function assigned to
`.handler` in a `struct kvm_demo_ext` initialiser, whatever the variable is called."""

from __future__ import annotations

import pickle
import textwrap

from interproc_helpers import records, workspace_findings

from kvmlock.analysis.engine import analyse_functions
from kvmlock.interproc.binding import CallResolver
from kvmlock.interproc.records import file_record
from kvmlock.interproc.workspace import Workspace
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.syntax.document import parse_document

# The handler table, in its own file: an extension whose start handler takes the VM mutex.
EXTENSIONS = """\
    struct kvm_demo_ext {
    	unsigned long extid;
    	int (*handler)(struct kvm_vcpu *vcpu, unsigned long *out);
    	int (*probe)(struct kvm_vcpu *vcpu);
    };

    static int demo_hsm_start(struct kvm_vcpu *vcpu, unsigned long *out)
    {
    	struct kvm *kvm = vcpu->kvm;

    	mutex_lock(&kvm->lock);
    	*out = kvm->arch.demo_harts;
    	mutex_unlock(&kvm->lock);
    	return 0;
    }

    const struct kvm_demo_ext demo_ext_hsm = {
    	.extid = DEMO_EXT_HSM,
    	.handler = demo_hsm_start,
    };
    """

# The dispatcher: looks the extension up and calls its handler inside the SRCU read side.
DISPATCH = """\
    const struct kvm_demo_ext *demo_find_ext(struct kvm_vcpu *vcpu, unsigned long id);

    int demo_vcpu_ecall(struct kvm_vcpu *vcpu, unsigned long id)
    {
    	const struct kvm_demo_ext *ext;
    	unsigned long out = 0;
    	int idx, ret = -EOPNOTSUPP;

    	idx = srcu_read_lock(&vcpu->kvm->srcu);
    	ext = demo_find_ext(vcpu, id);
    	if (ext && ext->handler)
    		ret = ext->handler(vcpu, &out);
    	srcu_read_unlock(&vcpu->kvm->srcu, idx);
    	return ret;
    }
    """

EXT_PATH = "arch/riscv/kvm/vcpu_demo_hsm.c"
DISPATCH_PATH = "arch/riscv/kvm/vcpu_demo_ecall.c"


def _files(dispatch: str = DISPATCH, extensions: str = EXTENSIONS) -> dict[str, str]:
    return {EXT_PATH: extensions, DISPATCH_PATH: dispatch}


def _names(resolver: CallResolver, path: str, callee: str, base_struct: str = "") -> list[str]:
    return sorted(key[1] for key in resolver.resolve(path, callee, base_struct).keys)


def _calls(code: str, path: str = "arch/riscv/kvm/a.c") -> dict[str, str]:
    """callee as written -> the base struct the walker recorded for it."""
    doc = parse_document(path, textwrap.dedent(code).encode())
    return {
        call.callee: call.base_struct
        for result in analyse_functions(doc, builtin_rule_base())
        for call in result.observations.calls
    }


def test_the_walker_records_the_declared_struct_of_the_base() -> None:
    calls = _calls("""\
        void demo(struct kvm_vcpu *vcpu, void *data, struct list_head *pos,
        	  const struct kvm_demo_ext **found)
        {
        	const struct kvm_demo_ext *ext = demo_find_ext(vcpu, 0);
        	struct kvm_demo_ext local[2];
        	struct kvm_demo_other *other = data;

        	ext->handler(vcpu, NULL);
        	((const struct kvm_demo_ext *)data)->handler(vcpu, NULL);
        	container_of(pos, struct kvm_demo_ext, link)->probe(vcpu);
        	list_first_entry(pos, struct kvm_demo_ext, link)->probe(vcpu);
        	local[1].probe(vcpu);
        	(*found)->probe(vcpu);
        	other->handler(vcpu, NULL);
        	((void *)other)->probe(vcpu);
        	unknown->handler(vcpu, NULL);
        }
        """)
    assert calls == {
        "demo_find_ext": "",
        "ext->handler": "kvm_demo_ext",
        "((conststructkvm_demo_ext*)data)->handler": "kvm_demo_ext",
        "container_of(pos,kvm_demo_ext,link)->probe": "kvm_demo_ext",
        "list_first_entry(pos,kvm_demo_ext,link)->probe": "kvm_demo_ext",
        "local[1].probe": "kvm_demo_ext",
        "(*found)->probe": "kvm_demo_ext",
        "other->handler": "kvm_demo_other",
        "((void*)other)->probe": "kvm_demo_other",  # a cast to no struct keeps the type
        "unknown->handler": "",
    }


def test_a_handler_taking_kvm_lock_inside_the_srcu_read_side_is_found_through_the_table() -> None:
    (finding,) = workspace_findings(_files())
    assert (finding.rule, finding.path, finding.span.line) == ("srcu-order", DISPATCH_PATH, 12)
    assert "ext->handler(vcpu, &out) takes kvm->lock" in finding.message
    assert "via demo_hsm_start at vcpu_demo_hsm.c:" in finding.message
    assert "kvm->srcu read-side section (line 9)" in finding.message


def test_cast_and_container_of_bases_bind_like_declared_ones() -> None:
    for call in (
        "((const struct kvm_demo_ext *)data)->handler(vcpu, &out)",
        "container_of(data, struct kvm_demo_ext, node)->handler(vcpu, &out)",
    ):
        dispatch = f"""\
            int demo_vcpu_ecall(struct kvm_vcpu *vcpu, void *data)
            {{
            	unsigned long out = 0;
            	int idx, ret;

            	idx = srcu_read_lock(&vcpu->kvm->srcu);
            	ret = {call};
            	srcu_read_unlock(&vcpu->kvm->srcu, idx);
            	return ret;
            }}
            """
        (finding,) = workspace_findings(_files(dispatch))
        assert (finding.rule, finding.span.line) == ("srcu-order", 7), call
        assert "via demo_hsm_start" in finding.message


def test_a_field_no_initialiser_sets_stays_unknown() -> None:
    dispatch = DISPATCH.replace("ext->handler(vcpu, &out)", "ext->probe(vcpu)")
    resolver = CallResolver(records(_files(dispatch)))
    assert _names(resolver, DISPATCH_PATH, "ext->probe", "kvm_demo_ext") == []
    assert workspace_findings(_files(dispatch)) == []


def test_another_struct_with_the_same_field_is_not_bound_to_the_first_ones_functions() -> None:
    # The name-based fallback would bind `ops->handler` to the only struct initialising
    # `.handler`; the declared type says it is another struct, whose handlers are set at
    # run time.
    dispatch = """\
        struct kvm_demo_timer_ops {
        	int (*handler)(struct kvm_vcpu *vcpu, unsigned long *out);
        };

        int demo_timer_fire(struct kvm_vcpu *vcpu, struct kvm_demo_timer_ops *ops)
        {
        	unsigned long out;
        	int idx, ret;

        	idx = srcu_read_lock(&vcpu->kvm->srcu);
        	ret = ops->handler(vcpu, &out);
        	srcu_read_unlock(&vcpu->kvm->srcu, idx);
        	return ret;
        }
        """
    resolver = CallResolver(records(_files(dispatch)))
    assert _names(resolver, DISPATCH_PATH, "ops->handler") == ["demo_hsm_start"]  # by name
    assert _names(resolver, DISPATCH_PATH, "ops->handler", "kvm_demo_timer_ops") == []
    assert workspace_findings(_files(dispatch)) == []


def test_file_scope_variables_and_arrays_of_structs() -> None:
    extensions = EXTENSIONS + """\

    static int demo_base_probe(struct kvm_vcpu *vcpu) { return 0; }
    static int demo_base_handler(struct kvm_vcpu *vcpu, unsigned long *out) { return 0; }
    static int demo_srst_handler(struct kvm_vcpu *vcpu, unsigned long *out) { return 0; }

    static const struct kvm_demo_ext demo_builtin[] = {
    	{ .extid = DEMO_EXT_BASE, .handler = demo_base_handler, .probe = demo_base_probe },
    	[1] = { .extid = DEMO_EXT_SRST, .handler = demo_srst_handler },
    };
    static const struct kvm_demo_ext *demo_current;

    int demo_call_builtin(struct kvm_vcpu *vcpu, int i, unsigned long *out)
    {
    	return demo_builtin[i].handler(vcpu, out);
    }

    int demo_call_current(struct kvm_vcpu *vcpu, unsigned long *out)
    {
    	return demo_current->handler(vcpu, out);
    }
    """
    resolver = CallResolver(records(_files(extensions=extensions)))
    # An initialised variable: its own members; a pointer: every table of the struct.
    assert _names(resolver, EXT_PATH, "demo_builtin[i].handler") == [
        "demo_base_handler",
        "demo_srst_handler",
    ]
    assert resolver.resolve(EXT_PATH, "demo_builtin[i].handler").table == "demo_builtin.handler"
    assert _names(resolver, EXT_PATH, "demo_current->handler") == [
        "demo_base_handler",
        "demo_hsm_start",
        "demo_srst_handler",
    ]
    assert _names(resolver, EXT_PATH, "demo_builtin[i].probe") == ["demo_base_probe"]
    # Another file's variable of the same name is not this one.
    assert _names(resolver, DISPATCH_PATH, "demo_current->handler") == []


def test_a_file_scope_type_changed_by_an_edit_rebinds_the_call() -> None:
    before = EXTENSIONS + """\

    static const struct kvm_demo_other *demo_current;

    int demo_call_current(struct kvm_vcpu *vcpu, unsigned long *out)
    {
    	int idx = srcu_read_lock(&vcpu->kvm->srcu);
    	int ret = demo_current->handler(vcpu, out);

    	srcu_read_unlock(&vcpu->kvm->srcu, idx);
    	return ret;
    }
    """
    after = before.replace("kvm_demo_other *demo_current", "kvm_demo_ext *demo_current")
    workspace = Workspace(lambda _path: builtin_rule_base())
    for record in records({EXT_PATH: before}):
        workspace.set_file(record)
    assert workspace.findings() == []
    (record,) = records({EXT_PATH: after})
    workspace.set_file(record)
    fresh = workspace_findings({EXT_PATH: after})
    assert [f.rule for f in workspace.findings()] == [f.rule for f in fresh] == ["srcu-order"]


def test_call_sites_keep_the_base_struct_when_moved_and_pickled() -> None:
    doc = parse_document(DISPATCH_PATH, textwrap.dedent(DISPATCH).encode())
    record = file_record(doc, analyse_functions(doc, builtin_rule_base()))
    (function,) = record.functions
    (_, call) = function.observations.calls
    assert call.base_struct == "kvm_demo_ext"
    (moved,) = [c for c in function.observations.shifted(10, 2).calls if c.callee == call.callee]
    assert moved.base_struct == "kvm_demo_ext" and moved.site.line == call.site.line + 2
    assert pickle.loads(pickle.dumps(record)) == record
