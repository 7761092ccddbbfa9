"""The real `kvmlock serve` over stdio: peak memory with three big files open and edited, and
didChange → publishDiagnostics through the protocol.

    python benchmarks/server_lsp.py [--corpus DIR] [--edits 50] [--json out.json]
    python benchmarks/server_lsp.py --generated 1000,15000 --edits 200   # generated files
    python benchmarks/server_lsp.py --quick      # generated files, for the test suite

Opens x86.c, mmu.c and kvm_main.c of the corpus (rules from the corpus's locking.rst), waits
for each file's diagnostics, then types --edits characters into each (the edits of
benchmarks/edit_latency.py), waiting for the diagnostics of every version before the next
change; `debounceMs` is 0 so the time is the server's work plus the protocol. The client
advertises work-done progress, so the server's background workspace index (interprocedural)
reports begin/end; its time is printed and the edits start once it has ended. Peak RSS is
the server process's VmHWM from /proc: after opening, after the index, at the end (the
index's worker processes are separate processes and not included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import KEY_FILES, add_corpus_argument, resolve_corpus  # noqa: E402
from edit_latency import edit_plan, percentile  # noqa: E402
from generate import generate  # noqa: E402
from lsp_client import Client  # noqa: E402


def utf16_position(text: bytes, at: int) -> dict:
    line = text.count(b"\n", 0, at)
    start = text.rfind(b"\n", 0, at) + 1
    return {"line": line, "character": len(text[start:at].decode().encode("utf-16-le")) // 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--edits", type=int, default=50, help="edits per file")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--generated", help="comma-separated line counts of generated files instead of the corpus"
    )
    parser.add_argument("--json")
    args = parser.parse_args()

    tmp = None
    if args.quick or args.generated:
        tmp = tempfile.TemporaryDirectory(prefix="kvmlock-lsp-")
        root = Path(tmp.name)
        files = []
        sizes = [1000, 2000] if args.quick else [int(n) for n in args.generated.split(",")]
        for n in sizes:
            path = root / f"gen{n}.c"
            path.write_text(generate(n))
            files.append(path)
        edits = 5 if args.quick else args.edits
    else:
        root = resolve_corpus(args.corpus)
        files = [root / f for f in KEY_FILES]
        edits = args.edits

    load = os.getloadavg()
    client = Client()
    client.initialize(root, {"debounceMs": 0})
    rss_start = client.vm_hwm_kb()
    # The transport alone: a request the server answers at once, no document involved.
    round_trips = []
    for _ in range(20 if args.quick else 200):
        started = time.perf_counter()
        client.request("workspace/executeCommand", {"command": "kvmlock.serverStats"})
        round_trips.append(time.perf_counter() - started)
    texts: dict[str, bytes] = {}
    open_ms = {}
    for path in files:
        uri = path.as_uri()
        texts[uri] = path.read_bytes()
        started = time.perf_counter()
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "c",
                    "version": 1,
                    "text": texts[uri].decode(),
                }
            },
        )
        got = client.diagnostics_for(uri, 1)
        open_ms[path.name] = round((got["_received"] - started) * 1000, 1)
    rss_open = client.vm_hwm_kb()
    # The interprocedural workspace index runs in the background after `initialized`; the
    # edits are measured once it has finished (steady state). Not waited for without one.
    time.sleep(0.5)
    index_s = client.progress_done(timeout=300) if client.progress else None
    rss_index = client.vm_hwm_kb()

    latency: dict[str, list[float]] = {}
    for path in files:
        uri = path.as_uri()
        times = latency.setdefault(path.name, [])
        for version, (at, char) in enumerate(edit_plan(texts[uri], edits), start=2):
            text = texts[uri]
            pos = utf16_position(text, at)
            started = time.perf_counter()
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [
                        {"range": {"start": pos, "end": pos}, "text": char.decode()}
                    ],
                },
            )
            texts[uri] = text[:at] + char + text[at:]
            got = client.diagnostics_for(uri, version)
            times.append(got["_received"] - started)
    rss_end = client.vm_hwm_kb()
    client.close()

    result = {
        "load": load,
        "files": [p.name for p in files],
        "open_ms": open_ms,
        "workspace_index_s": None if index_s is None else round(index_s, 2),
        "peak_rss_mb": {
            "after_initialize": round(rss_start / 1024, 1),
            "after_open": round(rss_open / 1024, 1),
            "after_index": round(rss_index / 1024, 1),
            "after_edits": round(rss_end / 1024, 1),
        },
        "request_round_trip_ms": round(statistics.median(round_trips) * 1000, 3),
        "edits_per_file": edits,
        "didchange_to_diagnostics_ms": {
            name: {
                "p50": round(statistics.median(t) * 1000, 2),
                "p99": round(percentile(t, 0.99) * 1000, 2),
            }
            for name, t in latency.items()
        },
    }
    print(f"load {load[0]:.2f}; files {', '.join(result['files'])}")
    print(f"  request round trip (kvmlock.serverStats) p50 {result['request_round_trip_ms']} ms")
    print(f"  open (didOpen → diagnostics) ms: {open_ms}")
    print(f"  workspace index (progress begin → end): {result['workspace_index_s']} s")
    print(
        "  server peak RSS (VmHWM) MB: after initialize {after_initialize}, after opening"
        " {after_open}, after the index {after_index}, after edits {after_edits}".format(
            **result["peak_rss_mb"]
        )
    )
    for name, q in result["didchange_to_diagnostics_ms"].items():
        print(f"  {name}: didChange → publishDiagnostics p50 {q['p50']} ms, p99 {q['p99']} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
