"""The range an open document records for the changes since its last analysis covers every
byte that differs, so the incremental path may skip comparing whole files."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from kvmlock.lsp.documents import OpenDocument
from kvmlock.lsp.positions import UTF16

TEXT = "static void f(void)\n{\n\tx(); // kvmlock: ignore[lock-order]\n}\n\nint é = 1;\n"
MARK = "// kvmlock: ignore[all]"


@st.composite
def changes(draw):
    lines = TEXT.split("\n")
    result = []
    for _ in range(draw(st.integers(1, 8))):
        line = draw(st.integers(0, len(lines)))
        character = draw(st.integers(0, 12))
        end_line = draw(st.integers(line, len(lines)))
        end_character = draw(st.integers(0, 12))
        if end_line == line:
            end_character = max(end_character, character)
        text = draw(st.sampled_from(["", "x", "\n", "é😀", "ab\ncd", "{}", MARK, "kvm", "lock:"]))
        result.append(
            types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=line, character=character),
                    end=types.Position(line=end_line, character=end_character),
                ),
                text=text,
            )
        )
    return result


@settings(max_examples=300, deadline=None, derandomize=True)
@given(changes())
def test_recorded_range_covers_every_difference(sequence):
    doc = OpenDocument("file:///x.c", "/x.c", TEXT, 1)
    before = doc.source
    for change in sequence:
        doc.apply(change, UTF16)
    after = doc.source
    if doc._changed is None:
        assert before == after
        return
    start, old_end, new_end = doc._changed
    assert before[:start] == after[:start]
    assert before[old_end:] == after[new_end:]
    assert len(before) - old_end == len(after) - new_end


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(changes(), min_size=1, max_size=4))
def test_suppression_marks_counted_where_edits_land(batches):
    """The live document counts suppression comments around each edit only; the count
    stays that of the whole text, through batches of changes analysed together."""
    from kvmlock.rules.builtin import builtin_rule_base

    rules = builtin_rule_base()
    doc = OpenDocument("file:///x.c", "/x.c", TEXT, 1)
    doc.analyse(rules, frozenset({"lock-order"}))
    for batch in batches:
        for change in batch:
            doc.apply(change, UTF16)
        doc.analyse(rules, frozenset({"lock-order"}))
        assert doc.live._marks == doc.source.count(b"kvmlock:")
