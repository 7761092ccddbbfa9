"""Diagnostics kept per function result (lsp.diagnostics): a keystroke renders the edited
function's findings only, and what is published always equals a fresh open's diagnostics,
including where a function shares its first or last line with text outside it."""

from __future__ import annotations

import sys
from pathlib import Path

from lsprotocol import types

from kvmlock.lsp.diagnostics import merged
from kvmlock.lsp.documents import OpenDocument
from kvmlock.lsp.positions import UTF16
from kvmlock.lsp.settings import Settings
from kvmlock.rules.builtin import builtin_rule_base

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate

RULES = builtin_rule_base()
SETTINGS = Settings()
ENABLED = SETTINGS.enabled_checks()
PATH = "/t/virt/kvm/x.c"


def publish(doc: OpenDocument) -> list[types.Diagnostic]:
    doc.analyse(RULES, ENABLED)
    return merged(doc.diagnostics(UTF16, SETTINGS), [])


def fresh(doc: OpenDocument) -> list[types.Diagnostic]:
    return publish(OpenDocument(doc.uri, PATH, doc.source.decode(), 1))


def insert(doc: OpenDocument, line: int, character: int, text: str) -> None:
    at = types.Position(line=line, character=character)
    doc.apply(types.TextDocumentContentChangePartial(range=types.Range(at, at), text=text), UTF16)
    doc.version = (doc.version or 0) + 1


def test_typing_renders_only_the_edited_function():
    text = generate(3000)
    doc = OpenDocument("file:///x.c", PATH, text, 1)
    first = publish(doc)
    with_findings = len(doc.live.with_findings())
    assert with_findings >= 3 and doc.memo.rendered == with_findings
    # Type into a call in the middle of the file, as the edit-latency benchmark does.
    lines = text.split("\n")
    row = next(i for i in range(len(lines) // 2, len(lines)) if "mutex_lock(" in lines[i])
    column = lines[row].index("mutex_lock(")
    for step, letter in enumerate("abc"):
        insert(doc, row, column + step, letter)
        before = doc.memo.rendered
        got = publish(doc)
        assert doc.memo.rendered - before <= 1  # the edited function's result, if any
        assert got == fresh(doc)
    assert len(got) >= len(first) - 1
    # A newline above every function moves every finding: all are rendered again.
    before = doc.memo.rendered
    insert(doc, 0, 0, "\n")
    got = publish(doc)
    assert doc.memo.rendered - before == len(doc.live.with_findings())
    assert got == fresh(doc)


LEAK_AT_BRACE = (
    "static void f(struct kvm *kvm, int x)\n{\n\tmutex_lock(&kvm->lock);\n"
    "\tif (x) {\n\t\tmutex_unlock(&kvm->lock);\n\t\treturn;\n\t}\n}\n"
    "\nstatic void g(void)\n{\n}\n"
)


def test_suppression_after_the_closing_brace_is_seen():
    """The leak is reported at f's closing `}`: a comment typed after it, outside the
    function, suppresses it although f's bytes (and so its cached result) are unchanged."""
    doc = OpenDocument("file:///x.c", PATH, LEAK_AT_BRACE, 1)
    assert [d.code for d in publish(doc)] == ["lock-leak"]
    insert(doc, 7, 1, " // kvmlock: ignore[lock-leak]")
    assert publish(doc) == [] == fresh(doc)
    insert(doc, 7, 15, "x")  # "ixgnore": no longer a mark
    got = publish(doc)
    assert [d.code for d in got] == ["lock-leak"] and got == fresh(doc)


def test_text_before_a_function_on_its_first_line():
    """Columns in UTF-16 count what precedes the function on its line: typing a wide
    character there moves the finding's range though the function's result is reused."""
    text = (
        "int a; /* e */ static void g(struct kvm_vcpu *vcpu) { mutex_lock(&vcpu->mutex); "
        "mutex_lock(&vcpu->kvm->lock); mutex_unlock(&vcpu->kvm->lock); "
        "mutex_unlock(&vcpu->mutex); }\n"
    )
    doc = OpenDocument("file:///x.c", PATH, text, 1)
    (before,) = publish(doc)
    insert(doc, 0, 10, "😀")  # inside the comment: two UTF-16 units, four bytes
    (after,) = publish(doc)
    assert after.range.start.character == before.range.start.character + 2
    assert [after] == fresh(doc)
