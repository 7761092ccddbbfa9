"""Edits through the real server: any sequence ends with the diagnostics a fresh open of the
final text gets; positions past the end are clamped, never fatal; inlay hints."""

from __future__ import annotations

import random
from pathlib import Path

from lsp_fixtures import C_SOURCE, diagnostics_for, open_doc
from lsprotocol import types
from pytest_lsp import LanguageClient

PIECES = ["\n", "x", "{", "}", ";", "é", "😀", "mutex_lock(&vcpu->kvm->lock);\n",
          "mutex_unlock(&vcpu->mutex);\n", "/*", "*/", "", ""]


def key(diagnostics):
    return [(d.code, d.range.start.line, d.range.start.character, d.message) for d in diagnostics]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_random_edits_match_a_fresh_open(client: LanguageClient, kernel_tree: Path):
    rng = random.Random(7)
    uri = (kernel_tree / "virt" / "kvm" / "random.c").as_uri()
    text = C_SOURCE * 3
    open_doc(client, uri, text)
    await diagnostics_for(client, uri, 1)
    version = 1
    for _ in range(40):
        lines = text.split("\n")
        line = rng.randrange(len(lines))
        start = rng.randrange(utf16_len(lines[line]) + 1)
        end = min(utf16_len(lines[line]), start + rng.randrange(4))
        new = rng.choice(PIECES)
        version += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=start),
                            end=types.Position(line=line, character=end),
                        ),
                        text=new,
                    )
                ],
            )
        )
        encoded = lines[line].encode("utf-16-le")
        before = encoded[: start * 2].decode("utf-16-le", "replace")
        after = encoded[end * 2 :].decode("utf-16-le", "replace")
        lines[line] = before + new + after
        text = "\n".join(lines)
    final = await diagnostics_for(client, uri, version)
    fresh_uri = (kernel_tree / "virt" / "kvm" / "random_fresh.c").as_uri()
    open_doc(client, fresh_uri, text)
    fresh = await diagnostics_for(client, fresh_uri, 1)
    assert key(final) == key(fresh)


async def test_positions_past_the_end_are_clamped(client: LanguageClient, kernel_tree: Path):
    uri = (kernel_tree / "virt" / "kvm" / "clamp.c").as_uri()
    open_doc(client, uri, C_SOURCE)
    await diagnostics_for(client, uri, 1)
    far = types.Position(line=500, character=900)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=far, end=far), text="\n/* appended */\n"
                )
            ],
        )
    )
    assert len(await diagnostics_for(client, uri, 2)) == 1
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=far)
    )
    assert hover is None


async def test_inlay_hints_show_the_held_set(client: LanguageClient, kernel_tree: Path):
    uri = (kernel_tree / "virt" / "kvm" / "hints.c").as_uri()
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kvmlock": {"inlayHints": True}})
    )
    open_doc(client, uri, C_SOURCE)
    await diagnostics_for(client, uri, 1)
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=8, character=0)
            ),
        )
    )
    labels = {h.position.line: h.label for h in hints}
    assert labels[2] == "held: vcpu->mutex"
    assert labels[3] == "held: vcpu->mutex, kvm->lock"
    assert labels[5] == "held: none"
