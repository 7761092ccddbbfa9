"""Helpers and texts for the end-to-end tests of the real `kvmlock serve` process."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import textwrap
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

RST = textwrap.dedent("""\
    =================
    KVM Lock Overview
    =================

    1. Acquisition Orders
    ---------------------

    The acquisition orders for mutexes are as follows:

    - kvm->lock is taken outside vcpu->mutex

    - kvm->lock is taken outside kvm->slots_lock and kvm->irq_lock

    Everything else is a leaf: nothing else nests inside these.

    3. Reference
    ------------

    ``kvm->lock``
    ^^^^^^^^^^^^^

    :Type:		mutex
    :Arch:		any
    :Protects:	- the set of vCPUs of a VM in this fixture
    :Comment:	written for kvmlock's tests.
    """)

C_SOURCE = textwrap.dedent("""\
    static int set_thing(struct kvm_vcpu *vcpu)
    {
    	mutex_lock(&vcpu->mutex);
    	mutex_lock(&vcpu->kvm->lock);
    	mutex_unlock(&vcpu->kvm->lock);
    	mutex_unlock(&vcpu->mutex);
    	return 0;
    }
    """)


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "kvmlock", "serve"])


def init_params(root: Path, *, pull: bool = False, options: dict | None = None):
    caps = client_capabilities("visual-studio-code")
    caps.text_document.diagnostic = (
        types.DiagnosticClientCapabilities(related_document_support=False) if pull else None
    )
    return types.InitializeParams(
        capabilities=caps,
        root_uri=root.as_uri(),
        initialization_options=options or {"debounceMs": 20},
    )


@contextlib.asynccontextmanager
async def session(client: LanguageClient, params: types.InitializeParams):
    """An initialised LSP session for a pytest-lsp fixture, shut down when the test ends."""
    accept_registrations(client)
    await client.initialize_session(params)
    yield
    await client.shutdown_session()


def accept_registrations(client: LanguageClient) -> None:
    """VS Code's capabilities promise dynamic registration; answer it like VS Code does."""

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    client.registrations = []
    # Keep every publishDiagnostics in order, so a test never misses one that arrived while
    # it was waiting for another document's.
    client.published = []
    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams):
        client.published.append(params)
        return original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    client.seen = {}


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="c", version=version, text=text
            )
        )
    )


async def diagnostics_for(client: LanguageClient, uri: str, version: int | None = None):
    """The next diagnostics published for `uri` (at `version`, when given) that this helper
    has not returned before."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        start = client.seen.get(uri, 0)
        for position in range(start, len(client.published)):
            params = client.published[position]
            if params.uri == uri and (version is None or params.version == version):
                client.seen[uri] = position + 1
                return list(params.diagnostics)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics for {uri} at version {version}")


async def indexed(client: LanguageClient) -> list:
    """The progress notifications of the indexing, once it has ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        for reports in client.progress_reports.values():
            if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
                return reports
        await asyncio.sleep(0.01)
    raise AssertionError("the indexing never ended")
