"""The language server re-records only the function an edit touched: after any edit
sequence the records equal those built from scratch for the final text."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st
from interproc_helpers import RULES

from kvmlock.analysis.checks import registry
from kvmlock.analysis.engine import analyse_functions
from kvmlock.analysis.live import LiveDocument, splice_note
from kvmlock.interproc.records import FileRecord, RecordBuilder
from kvmlock.syntax.document import parse_document
from kvmlock.syntax.incremental import ByteEdit, apply_edits

BASE = textwrap.dedent("""\
    static void one(struct kvm *kvm)
    {
    	mutex_lock(&kvm->lock);
    	helper(kvm);
    	mutex_unlock(&kvm->lock);
    }

    static void two(struct kvm *kvm)
    {
    	helper(kvm);
    }

    #ifdef CONFIG_X
    static void two(struct kvm *kvm)
    {
    	other(kvm);
    }
    #endif

    static void three(struct kvm_vcpu *vcpu)
    {
    	mutex_lock(&vcpu->mutex);
    	one(vcpu->kvm);
    	mutex_unlock(&vcpu->mutex);
    }
    """).encode()
SNIPPETS = [b"x", b"\n", b"(", b")", b"one", b"two", b" ", b"helper(kvm);\n\t",
            b"static void one(struct kvm *kvm)\n{\n}\n"]
ENABLED = frozenset(registry())


@st.composite
def edits(draw):
    source = BASE
    result = []
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.integers(0, len(source)))
        end = draw(st.integers(start, min(len(source), start + 6)))
        text = draw(st.sampled_from(SNIPPETS)) if draw(st.booleans()) else b""
        result.append(ByteEdit(start, end, text))
        source = apply_edits(source, [result[-1]])
    return result


def projection(record: FileRecord) -> list[tuple]:
    return [
        (f.name, f.line, f.ordinal, f.is_static, f.parameters,
         [(e.action, e.cls, e.site.line) for e in f.observations.events],
         [(c.callee, c.site.line) for c in f.observations.calls])
        for f in record.functions
    ]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(edits())
def test_spliced_records_equal_fresh_records(sequence):
    live = LiveDocument("virt/kvm/x.c")
    builder = RecordBuilder()
    source = BASE
    live.update(source, RULES, ENABLED)
    builder.build(live.parsed, live.results, False, splice_note(live))
    for edit in sequence:
        source = apply_edits(source, [edit])
        live.update(source, RULES, ENABLED)
        got = builder.build(live.parsed, live.results, False, splice_note(live))
    fresh_doc = parse_document("virt/kvm/x.c", source)
    fresh = RecordBuilder().build(fresh_doc, analyse_functions(fresh_doc, RULES))
    assert projection(got) == projection(fresh)


def test_typing_inside_a_function_rebuilds_only_its_record():
    live = LiveDocument("virt/kvm/x.c")
    builder = RecordBuilder()
    live.update(BASE, RULES, ENABLED)
    before = builder.build(live.parsed, live.results, False, splice_note(live))
    at = BASE.index(b"other(kvm)")
    source = BASE
    for step in range(3):  # typing into the name of a call of the second `two`
        source = apply_edits(source, [ByteEdit(at + step, at + step, b"y")])
        live.update(source, RULES, ENABLED)
        after = builder.build(live.parsed, live.results, False, splice_note(live))
    same = [a is b for a, b in zip(before.functions, after.functions, strict=True)]
    # Everything but the edited twin is the same record object; a `two` exists twice, so
    # only a stretch whose names are unique is spliced: here the whole build reuses them.
    assert same.count(False) == 1


def test_the_edited_stretch_alone_is_recorded_when_its_names_are_unique(monkeypatch):
    live = LiveDocument("virt/kvm/x.c")
    builder = RecordBuilder()
    live.update(BASE, RULES, ENABLED)
    builder.build(live.parsed, live.results, False, splice_note(live))
    whole = []
    real = RecordBuilder._every
    monkeypatch.setattr(RecordBuilder, "_every", lambda self, *a: whole.append(1) or real(self, *a))
    at = BASE.index(b"one(vcpu->kvm)")
    source = BASE
    for step in range(3):  # typing into a call in `three`
        source = apply_edits(source, [ByteEdit(at + step, at + step, b"y")])
        live.update(source, RULES, ENABLED)
        builder.build(live.parsed, live.results, False, splice_note(live))
    assert whole == []
    source = apply_edits(source, [ByteEdit(at, at, b"\n")])  # a line moves: all re-recorded
    live.update(source, RULES, ENABLED)
    builder.build(live.parsed, live.results, False, splice_note(live))
    assert whole == [1]
