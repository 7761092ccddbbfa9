"""Findings through calls in the editor: the server indexes the workspace in the background
(with work-done progress), publishes a caller's finding that rests on a callee in another
file, follows the callee's unsaved buffer, and shows summaries in hovers."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsp_fixtures import (
    RST,
    SERVER,
    diagnostics_for,
    indexed,
    init_params,
    open_doc,
    session,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

HELPERS = textwrap.dedent("""\
    void take_kvm_lock(struct kvm *kvm)
    {
    	mutex_lock(&kvm->lock);
    	mutex_unlock(&kvm->lock);
    }
    """)

HELPERS_WITHOUT_LOCK = HELPERS.replace("\tmutex_lock(&kvm->lock);\n", "").replace(
    "\tmutex_unlock(&kvm->lock);\n", "\tkvm->count++;\n"
)

VCPU = textwrap.dedent("""\
    static int vcpu_ioctl(struct kvm_vcpu *vcpu)
    {
    	mutex_lock(&vcpu->mutex);
    	take_kvm_lock(vcpu->kvm);
    	trace_vcpu_ioctl(vcpu);
    	mutex_unlock(&vcpu->mutex);
    	return 0;
    }
    """)

QUIET = textwrap.dedent("""\
    void quiet(struct kvm *kvm)
    {
    	mutex_lock(&kvm->slots_lock);
    	mutex_unlock(&kvm->slots_lock);
    }
    """)


@pytest.fixture
def call_tree(tmp_path: Path) -> Path:
    """A small kernel-style tree: a helper in one file, its caller in another."""
    rst = tmp_path / "Documentation" / "virt" / "kvm" / "locking.rst"
    rst.parent.mkdir(parents=True)
    rst.write_text(RST)
    kvm = tmp_path / "virt" / "kvm"
    kvm.mkdir(parents=True)
    (kvm / "helpers.c").write_text(HELPERS)
    (kvm / "vcpu.c").write_text(VCPU)
    (kvm / "quiet.c").write_text(QUIET)
    hidden = kvm / ".cache"
    hidden.mkdir()
    (hidden / "stale.c").write_text(HELPERS.replace("take_kvm_lock", "stale"))
    return tmp_path


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, call_tree: Path):
    async with session(lsp_client, init_params(call_tree)):
        yield


@pytest_lsp.fixture(config=SERVER)
async def quiet_client(lsp_client: LanguageClient, call_tree: Path):
    """A client that does not support work-done progress."""
    params = init_params(call_tree)
    params.capabilities.window.work_done_progress = False
    async with session(lsp_client, params):
        yield


@pytest_lsp.fixture(config=SERVER)
async def local_client(lsp_client: LanguageClient, call_tree: Path):
    options = {"debounceMs": 20, "interprocedural": False}
    async with session(lsp_client, init_params(call_tree, options=options)):
        yield


async def diagnostics_until(client: LanguageClient, uri: str, wanted) -> list:
    """Diagnostics published for `uri`, waiting until `wanted(diagnostics)` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        published = [p for p in client.published if p.uri == uri]
        if published and wanted(published[-1].diagnostics):
            return list(published[-1].diagnostics)
        await asyncio.sleep(0.01)
    last = [p.diagnostics for p in client.published if p.uri == uri][-1:]
    raise AssertionError(f"never published as wanted for {uri}; last: {last}")


def through_call(diagnostics) -> list:
    return [d for d in diagnostics if d.code == "lock-order" and "take_kvm_lock" in d.message]


async def test_finding_through_a_call_in_another_file_appears_after_indexing(
    client: LanguageClient, call_tree: Path
):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(client, uri, VCPU)
    reports = await indexed(client)
    (diagnostic,) = through_call(await diagnostics_until(client, uri, through_call))
    assert diagnostic.range.start.line == 3  # the call, in the caller
    assert "takes kvm->lock (via take_kvm_lock at helpers.c:3)" in diagnostic.message
    assert "while holding vcpu->mutex (line 3)" in diagnostic.message
    related = [r.location.uri for r in diagnostic.related_information]
    assert (call_tree / "virt" / "kvm" / "helpers.c").as_uri() in related

    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert reports[0].title == "kvmlock: indexing"
    assert reports[0].message == "3 files"  # the hidden directory is skipped
    assert any(isinstance(r, types.WorkDoneProgressReport) for r in reports)
    assert reports[-1].message == "3 files, 3 functions"


async def test_unsaved_callee_edit_clears_the_callers_finding(
    client: LanguageClient, call_tree: Path
):
    caller = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    callee_path = call_tree / "virt" / "kvm" / "helpers.c"
    callee = callee_path.as_uri()
    open_doc(client, caller, VCPU)
    open_doc(client, callee, HELPERS)
    await indexed(client)
    await diagnostics_until(client, caller, through_call)

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=callee, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=HELPERS_WITHOUT_LOCK)],
        )
    )
    await diagnostics_until(client, caller, lambda d: not through_call(d))
    assert callee_path.read_text() == HELPERS  # nothing was saved: the buffer counts

    # Typing the lock back in brings the finding back, still without saving.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=callee, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=HELPERS)],
        )
    )
    await diagnostics_until(client, caller, through_call)


async def test_closing_the_callee_buffer_goes_back_to_the_disk(
    client: LanguageClient, call_tree: Path
):
    caller = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    callee = (call_tree / "virt" / "kvm" / "helpers.c").as_uri()
    open_doc(client, caller, VCPU)
    open_doc(client, callee, HELPERS_WITHOUT_LOCK)  # the buffer differs from the disk
    await indexed(client)
    await diagnostics_until(client, caller, lambda d: not through_call(d))
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=callee))
    )
    await diagnostics_until(client, caller, through_call)  # re-checked, no edit needed


async def test_hover_on_a_function_name_shows_its_summary_through_calls(
    client: LanguageClient, call_tree: Path
):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(client, uri, VCPU)
    await indexed(client)
    await diagnostics_until(client, uri, through_call)

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=13),  # vcpu_ioctl
        )
    )
    text = hover.contents.value
    assert "**vcpu_ioctl()** — locking summary, through its calls" in text
    assert "- takes: kvm->lock (via take_kvm_lock at helpers.c:3), vcpu->mutex" in text
    assert "- requires on entry: nothing" in text
    assert "- may sleep: yes" in text  # mutexes sleep
    assert "- may call synchronize_srcu(&kvm->srcu): no" in text
    assert "1 callee(s) not in the workspace index, assumed neutral: `trace_vcpu_ioctl`" in text

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=5),  # the call of take_kvm_lock
        )
    )
    text = hover.contents.value
    assert "**take_kvm_lock()**" in text
    assert "- takes: kvm->lock" in text
    assert "not in the workspace index" not in text
    assert "**lock-order**" in text  # and the finding on that line


async def test_setting_off_keeps_findings_per_function(
    local_client: LanguageClient, call_tree: Path
):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(local_client, uri, VCPU)
    diagnostics = await diagnostics_until(local_client, uri, lambda d: True)
    assert through_call(diagnostics) == []
    await asyncio.sleep(0.3)  # time enough for an index of three files, were there one
    assert local_client.progress_reports == {}
    assert all(not through_call(p.diagnostics) for p in local_client.published)


async def test_no_progress_for_a_client_without_work_done_progress(
    quiet_client: LanguageClient, call_tree: Path
):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(quiet_client, uri, VCPU)
    await diagnostics_until(quiet_client, uri, through_call)  # indexed all the same
    stats = await quiet_client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kvmlock.serverStats")
    )
    assert stats["index"]["state"] == "ready"
    assert stats["index"]["files"] == 3
    assert quiet_client.progress_reports == {}


async def test_server_stats_count_the_summaries_an_edit_recomputes(
    client: LanguageClient, call_tree: Path
):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(client, uri, VCPU)
    await indexed(client)
    await diagnostics_until(client, uri, through_call)
    # A call to a function outside the index: vcpu_ioctl's record changes, its summary not.
    edited = VCPU.replace("\treturn 0;", "\ttrace_more(vcpu);\n\treturn 0;")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    await diagnostics_for(client, uri, 2)
    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kvmlock.serverStats")
    )
    assert stats["index"]["lastRecomputed"] == 1


async def test_turning_the_setting_on_and_off_at_run_time(
    local_client: LanguageClient, call_tree: Path
):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(local_client, uri, VCPU)
    await diagnostics_until(local_client, uri, lambda d: True)

    def configure(value: bool) -> None:
        local_client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"kvmlock": {"debounceMs": 20, "interprocedural": value}}
            )
        )

    configure(True)
    await diagnostics_until(local_client, uri, through_call)  # indexed, then re-checked
    configure(False)
    await diagnostics_until(local_client, uri, lambda d: not through_call(d))


# --- files changed on disk behind the editor's back (workspace/didChangeWatchedFiles) -------


def disk_event(client: LanguageClient, path: Path, kind: types.FileChangeType) -> None:
    """What the editor's file watcher sends for a change it did not make itself."""
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=path.as_uri(), type=kind)])
    )


async def disk_updates(client: LanguageClient, wanted: int) -> dict:
    """The server's index counters, once `wanted` files were re-read or dropped."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        stats = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kvmlock.serverStats")
        )
        if stats["index"]["diskUpdates"] >= wanted:
            return stats["index"]
        await asyncio.sleep(0.02)
    raise AssertionError(f"never {wanted} disk updates; last: {stats['index']}")


async def test_the_server_watches_c_files_and_headers(client: LanguageClient, call_tree: Path):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(client, uri, VCPU)
    await indexed(client)
    globs = [
        watcher["globPattern"]
        for registration in client.registrations
        if registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        for watcher in registration.register_options["watchers"]
    ]
    assert "**/*.{c,h}" in globs
    assert "**/locking.rst" in globs


async def test_a_callee_changed_on_disk_changes_the_callers_findings(
    client: LanguageClient, call_tree: Path
):
    caller = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    callee = call_tree / "virt" / "kvm" / "helpers.c"
    open_doc(client, caller, VCPU)
    await indexed(client)
    await diagnostics_until(client, caller, through_call)

    callee.write_text(HELPERS_WITHOUT_LOCK)  # e.g. a git checkout
    disk_event(client, callee, types.FileChangeType.Changed)
    await diagnostics_until(client, caller, lambda d: not through_call(d))

    callee.write_text(HELPERS)
    disk_event(client, callee, types.FileChangeType.Changed)
    (diagnostic,) = through_call(await diagnostics_until(client, caller, through_call))
    assert "via take_kvm_lock at helpers.c:3" in diagnostic.message


async def test_a_callee_deleted_and_created_on_disk(client: LanguageClient, call_tree: Path):
    caller = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    callee = call_tree / "virt" / "kvm" / "helpers.c"
    open_doc(client, caller, VCPU)
    await indexed(client)
    await diagnostics_until(client, caller, through_call)

    callee.unlink()
    disk_event(client, callee, types.FileChangeType.Deleted)
    await diagnostics_until(client, caller, lambda d: not through_call(d))
    stats = await disk_updates(client, 1)
    assert stats["files"] == 2

    # The function comes back in a new file, with its lock two lines further down.
    moved = call_tree / "virt" / "kvm" / "moved.c"
    moved.write_text("/* moved */\n\n" + HELPERS)
    disk_event(client, moved, types.FileChangeType.Created)
    (diagnostic,) = through_call(await diagnostics_until(client, caller, through_call))
    assert "via take_kvm_lock at moved.c:5" in diagnostic.message
    stats = await disk_updates(client, 2)
    assert stats["files"] == 3


async def test_disk_changes_to_open_files_and_files_outside_the_index_are_ignored(
    client: LanguageClient, call_tree: Path
):
    caller = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    callee = call_tree / "virt" / "kvm" / "helpers.c"
    open_doc(client, caller, VCPU)
    open_doc(client, callee.as_uri(), HELPERS)
    await indexed(client)
    await diagnostics_until(client, caller, through_call)

    callee.write_text(HELPERS_WITHOUT_LOCK)  # the buffer, not the disk, counts while open
    hidden = call_tree / "virt" / "kvm" / ".cache" / "stale.c"
    hidden.write_text(HELPERS_WITHOUT_LOCK)  # hidden directories are not indexed
    quiet = call_tree / "virt" / "kvm" / "quiet.c"
    quiet.write_text(QUIET.replace("slots_lock", "irq_lock"))
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=p.as_uri(), type=types.FileChangeType.Changed)
                for p in (callee, hidden, quiet)
            ]
        )
    )
    stats = await disk_updates(client, 1)  # quiet.c only
    assert stats["diskUpdates"] == 1 and stats["files"] == 3
    published = [p for p in client.published if p.uri == caller]
    assert through_call(published[-1].diagnostics)


async def test_changing_index_max_files_re_indexes(client: LanguageClient, call_tree: Path):
    uri = (call_tree / "virt" / "kvm" / "vcpu.c").as_uri()
    open_doc(client, uri, VCPU)
    await indexed(client)
    await diagnostics_until(client, uri, through_call)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"kvmlock": {"debounceMs": 20, "indexMaxFiles": 0}}
        )
    )
    # Nothing from the disk is indexed any more: the callee is unknown, the call neutral.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        stats = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kvmlock.serverStats")
        )
        if stats["index"]["state"] == "ready" and stats["index"]["files"] == 1:
            break  # the open buffer alone
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"never re-indexed: {stats['index']}")
    await diagnostics_until(client, uri, lambda d: not through_call(d))
