"""Open, edit, close; diagnostics with codes, links, related locations and versions."""

from __future__ import annotations

from pathlib import Path

from lsp_fixtures import C_SOURCE, diagnostics_for, open_doc
from lsprotocol import types
from pytest_lsp import LanguageClient


def change(client: LanguageClient, uri: str, version: int, changes) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=changes,
        )
    )


def edit(line: int, start: int, end: int, text: str):
    return types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=line, character=start),
            end=types.Position(line=line, character=end),
        ),
        text=text,
    )


async def test_open_publishes_cited_diagnostics(client: LanguageClient, kernel_tree: Path):
    uri = (kernel_tree / "virt" / "kvm" / "thing.c").as_uri()
    open_doc(client, uri, C_SOURCE)
    diagnostics = await diagnostics_for(client, uri, 1)
    assert len(diagnostics) == 1
    d = diagnostics[0]
    assert d.code == "lock-order" and d.source == "kvmlock"
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.range.start == types.Position(line=3, character=1)
    assert d.code_description.href.endswith("rules.md#lock-order")
    assert "kvm->lock is taken outside vcpu->mutex" in d.message
    related = {r.location.uri: r for r in d.related_information}
    assert related[uri].location.range.start.line == 2  # where vcpu->mutex was taken
    rst_uri = (kernel_tree / "Documentation" / "virt" / "kvm" / "locking.rst").resolve().as_uri()
    assert related[rst_uri].location.range.start.line == 9  # the rule's line (1-based 10)


async def test_incremental_edits_with_multibyte_text(client: LanguageClient, kernel_tree: Path):
    uri = (kernel_tree / "virt" / "kvm" / "edit.c").as_uri()
    text = "/* é😀 */ " + C_SOURCE
    open_doc(client, uri, text)
    assert [d.code for d in await diagnostics_for(client, uri, 1)] == ["lock-order"]
    # Swap the two locks on lines 3 and 4 (0-based 2 and 3) with range edits; the comment with
    # a 2-byte and a 4-byte character sits before them in the file.
    change(client, uri, 2, [edit(2, 13, 24, "vcpu->kvm->lock"), edit(3, 13, 28, "vcpu->mutex")])
    assert await diagnostics_for(client, uri, 2) == []
    # A UTF-16 position after the emoji on line 0: insert a line that takes kvm->lock twice.
    change(client, uri, 3, [edit(0, 6, 6, "x")])
    assert await diagnostics_for(client, uri, 3) == []
    change(client, uri, 4, [edit(4, 0, 0, "\tmutex_lock(&vcpu->kvm->lock);\n")])
    diagnostics = await diagnostics_for(client, uri, 4)
    # kvm->lock again, and while vcpu->mutex (line 3) is held.
    assert [(d.code, d.range.start.line) for d in diagnostics] == [
        ("double-lock", 4),
        ("lock-order", 4),
    ]


async def test_close_clears_and_unknown_documents_are_ignored(
    client: LanguageClient, kernel_tree: Path
):
    uri = (kernel_tree / "virt" / "kvm" / "closed.c").as_uri()
    change(client, uri + ".never-opened", 5, [edit(0, 0, 0, "x")])
    open_doc(client, uri, C_SOURCE)
    assert len(await diagnostics_for(client, uri, 1)) == 1
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await diagnostics_for(client, uri) == []
