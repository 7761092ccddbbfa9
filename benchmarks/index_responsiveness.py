"""Does the editor stay responsive while `kvmlock serve` indexes the workspace?

    python benchmarks/index_responsiveness.py                     # the 6.1 corpus
    KVMLOCK_INDEX_WORKERS=0 python benchmarks/index_responsiveness.py   # indexing in-process

Starts the real server on a workspace folder, opens x86.c, and from `initialized` until the
indexing's work-done progress ends sends a hover every 20 ms and an edit every 200 ms; prints
the indexing time and the hover round trips during and after indexing (p50, p99, max), and the
time from each edit (a space typed and deleted in a function body) to its diagnostics. It
starts measuring once the file's own first analysis is published. KVMLOCK_INDEX_WORKERS
picks the worker processes (0: the files are analysed in the server process, one between two
messages).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

CORPUS = Path.home() / ".cache" / "kvmlock" / "corpus" / "src" / "linux-source-6.1"


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{name}: n={len(values)} p50 {statistics.median(values) * 1000:.1f} ms"
        f" p99 {p99 * 1000:.1f} ms max {max(values) * 1000:.1f} ms"
    )


async def run(root: Path, file: Path, after: float) -> None:
    client = make_test_lsp_client()
    published: dict[int, float] = {}

    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def diagnostics(params: types.PublishDiagnosticsParams):
        if params.version is not None:
            published.setdefault(params.version, time.perf_counter())
        return original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = diagnostics

    await client.start_io(sys.executable, "-m", "kvmlock", "serve")
    started = time.perf_counter()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            initialization_options={"debounceMs": 0},
        )
    )
    text = file.read_text()
    uri = file.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="c", version=1, text=text)
        )
    )
    # A function name in the middle of the file, to hover over; edits go into its body.
    lines = text.splitlines()
    line = next(i for i in range(len(lines) // 2, len(lines)) if lines[i] == "{") - 1
    character = max(lines[line].find("("), 1) - 1
    body = line + 2
    while time.perf_counter() - started < 60 and 1 not in published:
        await asyncio.sleep(0.01)  # the first analysis of the file is not the index's doing
    opened = time.perf_counter() - started

    def ended() -> bool:
        return any(
            reports and isinstance(reports[-1], types.WorkDoneProgressEnd)
            for reports in client.progress_reports.values()
        )

    during: list[float] = []
    later: list[float] = []
    edits: dict[int, float] = {}
    version = 1
    indexed_at = None
    last_edit = 0.0
    while True:
        now = time.perf_counter()
        if indexed_at is None and ended():
            indexed_at = now
        if indexed_at is not None and now - indexed_at > after:
            break
        if now - last_edit > 0.2:
            version += 1
            last_edit = now
            edits[version] = now
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                types.Position(line=body, character=0),
                                types.Position(line=body, character=0),
                            ),
                            text=" " if version % 2 == 0 else "",
                        )
                        if version % 2 == 0
                        else types.TextDocumentContentChangePartial(
                            range=types.Range(
                                types.Position(line=body, character=0),
                                types.Position(line=body, character=1),
                            ),
                            text="",
                        )
                    ],
                )
            )
        sent = time.perf_counter()
        await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
            )
        )
        (during if indexed_at is None else later).append(time.perf_counter() - sent)
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kvmlock.serverStats")
    )
    await client.shutdown_session()
    assert indexed_at is not None
    print(f"first diagnostics of the file: {opened:.2f} s after start")
    print(f"indexing (initialize to progress end): {indexed_at - started:.2f} s; {stats['index']}")
    print(summary("hover while indexing", during))
    print(summary("hover after indexing", later))
    latencies = [published[v] - t for v, t in edits.items() if v in published]
    print(summary("edit to diagnostics", latencies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(CORPUS))
    parser.add_argument("--file", default="arch/x86/kvm/x86.c", help="relative to the root")
    parser.add_argument("--after", type=float, default=2.0, help="seconds measured after")
    args = parser.parse_args()
    asyncio.run(run(Path(args.root), Path(args.root) / args.file, args.after))


if __name__ == "__main__":
    main()
