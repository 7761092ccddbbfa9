"""Hover, definition, code actions, configuration, locking.rst edits and pull diagnostics,
against the real server process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsp_fixtures import C_SOURCE, RST, diagnostics_for, open_doc
from lsprotocol import types
from pytest_lsp import LanguageClient


def doc_id(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def at(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def opened(client: LanguageClient, tree: Path, name: str, text: str = C_SOURCE):
    uri = (tree / "virt" / "kvm" / name).as_uri()
    open_doc(client, uri, text)
    return uri, await diagnostics_for(client, uri, 1)


async def test_hover_on_lock_call_shows_reference_and_held_set(
    client: LanguageClient, kernel_tree: Path
):
    uri, _ = await opened(client, kernel_tree, "hover.c")
    # Line 4 (0-based 3): `mutex_lock(&vcpu->kvm->lock);`, cursor on `lock` of kvm->lock.
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc_id(uri), position=at(3, 25))
    )
    text = hover.contents.value
    assert "**kvm->lock**" in text
    assert "Type: mutex" in text
    assert "the set of vCPUs of a VM in this fixture" in text
    assert "Held here: vcpu->mutex (line 3)" in text
    assert "kvm->lock is taken outside vcpu->mutex" in text
    assert "locking.rst line 10" in text
    assert "**lock-order**" in text  # the finding on this line, in full


async def test_hover_on_function_name_summarises_it(client: LanguageClient, kernel_tree: Path):
    uri, _ = await opened(client, kernel_tree, "fn.c")
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc_id(uri), position=at(0, 12))
    )
    text = hover.contents.value
    assert "**set_thing()**" in text
    assert "takes: kvm->lock, vcpu->mutex" in text
    assert "returns holding: nothing" in text


async def test_definition_jumps_to_locking_rst_entry(client: LanguageClient, kernel_tree: Path):
    uri, _ = await opened(client, kernel_tree, "def.c")
    location = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc_id(uri), position=at(3, 25))
    )
    rst = kernel_tree / "Documentation" / "virt" / "kvm" / "locking.rst"
    assert location.uri == rst.resolve().as_uri()
    heading = RST.splitlines().index("``kvm->lock``")
    assert location.range.start.line == heading


async def test_code_actions_open_rule_and_suppress(client: LanguageClient, kernel_tree: Path):
    uri, diagnostics = await opened(client, kernel_tree, "actions.c")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc_id(uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    titles = [a.title for a in actions]
    assert any("open the rule in locking.rst" in t for t in titles)
    suppress = next(a for a in actions if "suppress lock-order" in a.title)
    (text_edit,) = suppress.edit.changes[uri]
    assert text_edit.new_text == " // kvmlock: ignore[lock-order]"
    assert text_edit.range.start == at(3, len("\tmutex_lock(&vcpu->kvm->lock);"))
    # Applying it silences the finding.
    lines = C_SOURCE.splitlines(keepends=True)
    lines[3] = lines[3].rstrip("\n") + text_edit.new_text + "\n"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="".join(lines))],
        )
    )
    assert await diagnostics_for(client, uri, 2) == []


async def test_configuration_disables_a_check(client: LanguageClient, kernel_tree: Path):
    uri, diagnostics = await opened(client, kernel_tree, "config.c")
    assert len(diagnostics) == 1
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"kvmlock": {"checks": {"lock-order": {"enabled": False}}}}
        )
    )
    assert await diagnostics_for(client, uri) == []
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"kvmlock": {"checks": {"lock-order": {"severity": "hint"}}}}
        )
    )
    (again,) = await diagnostics_for(client, uri)
    assert again.severity == types.DiagnosticSeverity.Hint


async def test_editing_locking_rst_republishes(client: LanguageClient, kernel_tree: Path):
    uri, diagnostics = await opened(client, kernel_tree, "rst.c")
    assert len(diagnostics) == 1
    rst_uri = (kernel_tree / "Documentation" / "virt" / "kvm" / "locking.rst").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=rst_uri, language_id="restructuredtext", version=1, text=RST
            )
        )
    )
    await diagnostics_for(client, uri)
    flipped = RST.replace(
        "- kvm->lock is taken outside vcpu->mutex", "- vcpu->mutex is taken outside kvm->lock"
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=rst_uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=flipped)],
        )
    )
    assert await diagnostics_for(client, uri) == []
    # A garbled locking.rst: diagnostics on the rst itself, and the last good rules stay.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=rst_uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="\x00garbage")],
        )
    )
    rst_diagnostics = await diagnostics_for(client, rst_uri, 3)
    assert any("previous rules stay in force" in d.message for d in rst_diagnostics)
    assert await diagnostics_for(client, uri) == []


async def test_pull_diagnostics(pull_client: LanguageClient, kernel_tree: Path):
    uri = (kernel_tree / "virt" / "kvm" / "pull.c").as_uri()
    open_doc(pull_client, uri, C_SOURCE)
    report = await pull_client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=doc_id(uri))
    )
    assert [d.code for d in report.items] == ["lock-order"]
    await asyncio.sleep(0.3)
    assert uri not in pull_client.diagnostics  # pull clients get no pushes


async def test_commands(client: LanguageClient, kernel_tree: Path):
    uri, _ = await opened(client, kernel_tree, "commands.c")
    text = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kvmlock.showRuleBase", arguments=[uri])
    )
    assert "kvm->lock" in text and "vcpu->mutex" in text
    location = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kvmlock.lockingRstLocation", arguments=[uri])
    )
    assert location["builtin"] is False
    assert location["uri"].endswith("Documentation/virt/kvm/locking.rst")
