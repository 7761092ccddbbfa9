"""Random edit sequences at the server's document level (LSP changes, UTF-16 positions,
`OpenDocument`) on our C fixtures and on generated kernel-style files: no exception, the
document's bytes equal a model of the text, and the diagnostics the server would publish
equal those of a freshly opened document with the final text. One sequence goes through the
real `kvmlock serve` too.

The edit kinds live in benchmarks/fuzz_edits.py (shared with benchmarks/soak.py, the long
run). Knobs as in tests/analysis/test_incremental.py: KVMLOCK_EXAMPLES=N examples per test
(CI: the defaults below), KVMLOCK_RANDOM=1 for new examples each run; KVMLOCK_FUZZ_STATS=FILE
appends the number of examples and edits each test tried as JSON lines.
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from rpc_client import RawClient

from kvmlock.lsp.diagnostics import merged
from kvmlock.lsp.documents import OpenDocument
from kvmlock.lsp.positions import UTF16
from kvmlock.lsp.settings import Settings
from kvmlock.rules.builtin import builtin_rule_base

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from fuzz_edits import apply_change, make_edit  # noqa: E402
from generate import generate  # noqa: E402

sys.path.remove(str(REPO / "benchmarks"))

RULES = builtin_rule_base()
SETTINGS = Settings()
ENABLED = SETTINGS.enabled_checks()
URI = "file:///fuzz/arch/x86/kvm/fuzz.c"
PATH = "/fuzz/arch/x86/kvm/fuzz.c"

FIXTURES = {
    p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8")
    for p in sorted(
        [*(REPO / "tests" / "fixtures" / "c").rglob("*.[ch]"), *(REPO / "examples").glob("*.c")]
    )
}
# Generated files with findings in them (seeds 8 and 10 give lock-leak and srcu-order).
GENERATED = {f"generate(450, {seed})": generate(450, seed) for seed in (8, 10)}
DONORS = [FIXTURES[name] for name in sorted(FIXTURES)[::4]]

EXAMPLES = os.environ.get("KVMLOCK_EXAMPLES")
STATS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    target = os.environ.get("KVMLOCK_FUZZ_STATS")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"random": bool(os.environ.get("KVMLOCK_RANDOM")), **STATS}) + "\n")


def fuzz_settings(default: int):
    return settings(
        max_examples=int(EXAMPLES or default),
        deadline=None,
        derandomize=not os.environ.get("KVMLOCK_RANDOM"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@st.composite
def edit_sequences(draw, bases: dict[str, str], most: int):
    name = draw(st.sampled_from(sorted(bases)))
    text = bases[name]
    choose = lambda lo, hi: draw(st.integers(lo, hi))  # noqa: E731
    donors = [*DONORS, text]  # pasting the file itself, or getting it back after delete-all
    steps = []
    for _ in range(draw(st.integers(1, most))):
        kind, change = make_edit(text, choose, donors)
        text = apply_change(text, change)
        steps.append((kind, change, draw(st.booleans())))
    return name, steps


def lsp_change(change: dict) -> types.TextDocumentContentChangeEvent:
    if "range" not in change:
        return types.TextDocumentContentChangeWholeDocument(text=change["text"])
    start, end = change["range"]["start"], change["range"]["end"]
    return types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=start["line"], character=start["character"]),
            end=types.Position(line=end["line"], character=end["character"]),
        ),
        text=change["text"],
    )


def published(doc: OpenDocument) -> list[types.Diagnostic]:
    """What the server publishes for a document (without the interprocedural index): its
    diagnostics kept per function result across the edits (lsp.diagnostics)."""
    doc.analyse(RULES, ENABLED)
    return merged(doc.diagnostics(UTF16, SETTINGS), [])


def run_sequence(base: str, steps) -> None:
    doc = OpenDocument(URI, PATH, base, 1)
    published(doc)
    text = base
    for version, (kind, change, analyse) in enumerate(steps, start=2):
        doc.apply(lsp_change(change), UTF16)
        doc.version = version
        text = apply_change(text, change)
        assert doc.source == text.encode("utf-8"), f"bytes differ from the model after {kind}"
        if analyse:
            published(doc)
        STATS["edits"] += 1
        STATS[f"kind:{kind}"] += 1
    STATS["examples"] += 1
    final = published(doc)
    fresh_doc = OpenDocument(URI, PATH, text, 1)
    fresh = published(fresh_doc)
    assert final == fresh
    assert doc.parsed.text == fresh_doc.parsed.text
    assert [(f.name, f.start_byte, f.end_byte) for f in doc.parsed.functions] == [
        (f.name, f.start_byte, f.end_byte) for f in fresh_doc.parsed.functions
    ]


@fuzz_settings(250)
@given(edit_sequences(FIXTURES, 10))
def test_fixture_edits_equal_a_fresh_open(sequence):
    name, steps = sequence
    run_sequence(FIXTURES[name], steps)


@fuzz_settings(60)
@given(edit_sequences(GENERATED, 14))
def test_generated_file_edits_equal_a_fresh_open(sequence):
    name, steps = sequence
    run_sequence(GENERATED[name], steps)


def change_at(line: int, start: int, end: int, text: str, end_line: int | None = None) -> dict:
    return {
        "range": {
            "start": {"line": line, "character": start},
            "end": {"line": line if end_line is None else end_line, "character": end},
        },
        "text": text,
    }


def test_positions_across_multibyte_characters():
    """A range after an emoji (two UTF-16 units) and an é (one unit, two bytes) lands on the
    right bytes; a position inside the emoji's surrogate pair rounds down to before it."""
    base = "static void f(void)\n{\n\t/* é😀x */\n}\n"
    doc = OpenDocument(URI, PATH, base, 1)
    # "\t/* é😀x */": the x is at UTF-16 unit 7 (tab, /, *, space, é, two for the emoji).
    doc.apply(lsp_change(change_at(2, 7, 8, "y")), UTF16)
    assert doc.source.decode() == base.replace("x", "y")
    doc.apply(lsp_change(change_at(2, 6, 6, "!")), UTF16)
    assert doc.source.decode() == base.replace("😀x", "!😀y")


def test_paste_replace_and_delete_all_then_edit():
    """Whole-file operations followed by more edits, as a fixed sequence."""
    base = GENERATED["generate(450, 8)"]
    donor = FIXTURES["examples/lock_order.c"]
    steps = [
        ("paste-file", change_at(40, 0, 0, donor), True),
        ("replace-all", {"text": donor}, False),
        ("delete-all", {"text": ""}, True),
        ("paste-file", change_at(0, 0, 0, base), True),
        ("delete-all", change_at(0, 0, 0, "", end_line=base.count("\n")), False),
        ("insert-char", change_at(0, 0, 0, "{"), True),
        ("replace-all", {"text": base}, True),
    ]
    run_sequence(base, steps)


@pytest.mark.parametrize("first_end", ["\treturn r;\n}\n", "\treturn r; }\n"])
def test_open_parenthesis_in_one_function_leaves_the_next_ones_conditionals(first_end):
    """Typing `(` in one function made the whole-file rewrite count it open at every later
    #if, flattening the #ifdef/#else of the next function, while the windowed rewrite of the
    edited function left that function as it was (found by the edit fuzz); also when the
    function's closing brace is not in column 0."""
    base = (
        "static int first(struct kvm *kvm)\n{\n\tint r = 0;\n\n" + first_end + "\n"
        "static void second(struct kvm *kvm)\n{\n\twrite_lock(&kvm->mmu_lock);\n"
        "#ifdef CONFIG_X86_64\n\tsecond_tdp(kvm);\n#else\n\tspin_lock(&kvm->mmu_lock);\n"
        "#endif\n\twrite_unlock(&kvm->mmu_lock);\n}\n"
    )
    doc = OpenDocument(URI, PATH, base, 1)
    assert [d.code for d in published(doc)] == ["double-lock"]
    run_sequence(base, [("insert-char", change_at(2, 1, 1, "("), True)])
    run_sequence(base, [("insert-char", change_at(2, 1, 1, ")"), True)])


# --- the real server -----------------------------------------------------------------------


def _diagnostics(client: RawClient, uri: str, version: int) -> list[dict]:
    message = client.wait(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version
        ),
        timeout=60,
    )
    return message["params"]["diagnostics"]


def test_server_edits_equal_a_fresh_open_in_the_same_server():
    """Fifty random edits (fixed seed) through `kvmlock serve`, with the interprocedural index
    on; the edited document is closed and its final text opened under another URI."""
    rng = random.Random(12)  # a whole-file change early, findings at the end
    choose = rng.randint
    base = GENERATED["generate(450, 10)"][:6000] + FIXTURES["examples/order_cycle.c"]
    edited = "file:///fuzz/a/virt/kvm/edited.c"
    fresh = "file:///fuzz/b/virt/kvm/edited.c"
    client = RawClient()
    try:
        client.response(
            client.request(
                "initialize",
                {
                    "processId": None,
                    "rootUri": None,
                    "capabilities": {},
                    "initializationOptions": {"debounceMs": 5},
                },
            )
        )
        client.notify("initialized", {})
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": edited, "languageId": "c", "version": 1, "text": base}},
        )
        _diagnostics(client, edited, 1)
        text = base
        version = 1
        kinds = Counter()
        while sum(kinds.values()) < 50:
            changes = []
            for _ in range(rng.randint(1, 3)):
                kind, change = make_edit(text, choose, [*DONORS, base])
                kinds[kind] += 1
                text = apply_change(text, change)
                changes.append(change)
            version += 1
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": edited, "version": version}, "contentChanges": changes},
            )
            if version % 6 == 0:  # let some versions be analysed, others coalesced
                final = _diagnostics(client, edited, version)
        if version % 6:
            final = _diagnostics(client, edited, version)
        STATS["server edits"] += sum(kinds.values())
        assert final  # seed 12 ends with findings of five checks
        client.notify("textDocument/didClose", {"textDocument": {"uri": edited}})
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": fresh, "languageId": "c", "version": 1, "text": text}},
        )
        again = _diagnostics(client, fresh, 1)
        assert json.dumps(final).replace("/fuzz/a/", "/fuzz/b/") == json.dumps(again)
        errors = []
        while not client.messages.empty():
            message = client.messages.get()
            if message.get("method") == "window/logMessage" and message["params"]["type"] == 1:
                errors.append(message["params"]["message"])
        assert errors == []
        client.response(client.request("shutdown"))
        client.notify("exit")
        assert client.proc.wait(timeout=10) == 0
    finally:
        client.close()
