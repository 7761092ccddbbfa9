"""Properties of the dataflow on generated function bodies: it never raises, reports only
registered checks inside the function, and does not depend on layout."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kvmlock.analysis.checks import registry

LOCKS = ["&kvm->lock", "&vcpu->mutex", "&kvm->slots_lock", "&kvm->srcu"]
SIMPLE = [
    "mutex_lock({l});",
    "mutex_unlock({l});",
    "if (!mutex_trylock({l})) return -EBUSY;",
    "if (mutex_lock_killable({l})) return -EINTR;",
    "idx = srcu_read_lock({l});",
    "srcu_read_unlock({l}, idx);",
    "synchronize_srcu({l});",
    "guard(mutex)({l});",
    "lockdep_assert_held({l});",
    "spin_lock(&kvm->mmu_lock);",
    "spin_unlock(&kvm->mmu_lock);",
    "r = -EINVAL;",
    "r = 0;",
    "goto out;",
    "return r;",
    "return -EIO;",
    "break;",
    "continue;",
    "x++;",
]


def statements(depth: int) -> st.SearchStrategy[str]:
    simple = st.builds(
        lambda template, lock: template.format(l=lock),
        st.sampled_from(SIMPLE),
        st.sampled_from(LOCKS),
    )
    if depth == 0:
        return simple
    inner = st.lists(statements(depth - 1), max_size=4).map(lambda body: "\n".join(body))
    return st.one_of(
        simple,
        inner.map(lambda b: f"if (x) {{\n{b}\n}}"),
        st.tuples(inner, inner).map(lambda p: f"if (y) {{\n{p[0]}\n}} else {{\n{p[1]}\n}}"),
        inner.map(lambda b: f"while (n--) {{\n{b}\n}}"),
        inner.map(lambda b: f"kvm_for_each_vcpu(i, vcpu, kvm) {{\n{b}\n}}"),
        inner.map(lambda b: f"scoped_guard(mutex, &kvm->lock) {{\n{b}\n}}"),
        inner.map(lambda b: f"switch (n) {{\ncase 1:\n{b}\nbreak;\ndefault:\nbreak;\n}}"),
        inner.map(lambda b: f"do {{\n{b}\n}} while (0);"),
    )


def function(body: str) -> str:
    return (
        "static int f(struct kvm *kvm, struct kvm_vcpu *vcpu, int n, bool x, bool y)\n{\n"
        "\tint r = 0, idx;\n\tunsigned long i;\n"
        f"{body}\nout:\n\treturn r;\n}}\n"
    )


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(statements(3), max_size=8).map(lambda b: "\n".join(b)))
def test_never_raises_and_stays_inside_the_function(check, body):
    code = function(body)
    found = check(code)
    lines = code.count("\n") + 1
    for finding in found:
        assert finding.rule in registry()
        assert 1 <= finding.span.line <= lines
    # Layout does not matter: the same code with blank lines added reports the same checks.
    spaced = check(code.replace("\n", "\n\n"))
    assert sorted(f.rule for f in spaced) == sorted(f.rule for f in found)
