"""Calls through a function-pointer field: the walker records the declared struct type of
the base (`CallSite.base_struct`), which binding reads."""

from __future__ import annotations

import textwrap

from kvmlock.analysis.engine import analyse_functions
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.syntax.document import parse_document


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
