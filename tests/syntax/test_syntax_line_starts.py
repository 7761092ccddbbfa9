"""The line-start table kept up to date edit by edit equals the table of the final text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kvmlock.syntax.document import LineStarts, line_starts
from kvmlock.syntax.incremental import ByteEdit, apply_edits

TEXT = b"int a;\n\nstatic void f(void)\n{\n\tx();\n}\n"


@st.composite
def edits(draw):
    source = TEXT
    result = []
    for _ in range(draw(st.integers(1, 12))):
        start = draw(st.integers(0, len(source)))
        end = draw(st.integers(start, min(len(source), start + 9)))
        text = draw(st.sampled_from([b"", b"x", b"\n", b"ab\n\ncd", b"\n\n\n", b"\xc3\xa9"]))
        result.append(ByteEdit(start, end, text))
        source = apply_edits(source, [ByteEdit(start, end, text)])
    return result


@settings(max_examples=300, deadline=None, derandomize=True)
@given(edits())
def test_edited_table_equals_fresh_table(sequence):
    source = TEXT
    table = LineStarts(line_starts(source))
    for edit in sequence:
        source = apply_edits(source, [edit])
        table.edit(source, edit.start, edit.end, edit.start + len(edit.text))
        fresh = line_starts(source)
        assert list(table) == fresh
        assert len(table) == len(fresh)
        for byte in range(len(source) + 1):
            assert table.row(byte) == max(i for i, s in enumerate(fresh) if s <= byte)
