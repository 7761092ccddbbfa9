"""The long run of the edit fuzz: random editor changes into the real `kvmlock serve` over
stdio, checked against a fresh open, with the server's memory over time.

    python benchmarks/soak.py [--seed 1] [--edits 2000] [--seconds S] [--check-every 25]
    python benchmarks/soak.py --documents 50 --lines 10000     # memory per open document
    python benchmarks/soak.py --quick --json out.json          # small, for the test suite

soak      : one generated kernel-style file (--base-lines) open in the server; changes of the
            kinds in benchmarks/fuzz_edits.py (single bytes, multi-byte UTF-8 and emoji in
            UTF-16 positions, braces, #if/#else/#endif lines, lock statements, whole functions,
            a whole file pasted, replace-all, delete-all, positions past the end), one to three
            per didChange, sometimes with a pause so that some versions are analysed and others
            coalesced (debounceMs 10). Every --check-every edits the client waits for the
            diagnostics of the current version and compares them with those a second server
            publishes for a fresh didOpen of the same text under the same URI. Counted: edits,
            checks, mismatches (with --keep DIR: the text at the check before and the changes
            since, to replay), crashes (the server exited;
            both servers are restarted from the base text), errors the server logged
            (window/logMessage of type Error), and VmRSS/VmHWM of the edited server's process
            from /proc at every check. Stops after --edits edits or --seconds seconds.
burst     : the base text again, then --burst changes sent back to back (insert a snippet,
            delete it: the text ends as it began); VmRSS before, the highest VmRSS sampled
            every 20 ms during the burst, right after the last diagnostics and after 2 s idle.
            "returned" means the idle figure is within max(5 %, 8 MB) of the one before.
documents : (with --documents N) N generated files of --lines lines each (seeds 1..N) opened in
            one fresh server, each waited for; VmRSS after each, and the growth per document.
            Runs instead of soak and burst.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_edits import apply_change, make_edit, position_of  # noqa: E402
from generate import generate  # noqa: E402
from lsp_client import Client  # noqa: E402

URI = "file:///kvmlock-soak/virt/kvm/soak.c"


class Server(Client):
    """The benchmark client, noting errors the server logs while waiting for other things."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.last_published: dict[tuple[str, int], list[dict]] = {}

    def wait(self, match, timeout: float = 60) -> dict:
        def noting(message: dict) -> bool:
            method = message.get("method")
            if method == "window/logMessage" and message["params"]["type"] == 1:
                self.errors.append(message["params"]["message"][:2000])
            if method == "textDocument/publishDiagnostics":
                params = message["params"]
                key = (params["uri"], params.get("version"))
                self.last_published[key] = params["diagnostics"]
            return match(message)

        return super().wait(noting, timeout)

    def status_kb(self) -> dict[str, int]:
        values = {}
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0])
        return values

    def alive(self) -> bool:
        return self.proc.poll() is None

    def open(self, uri: str, text: str, version: int = 1) -> None:
        item = {"uri": uri, "languageId": "c", "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def change(self, uri: str, version: int, changes: list[dict]) -> None:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes},
        )

    def diagnostics(self, uri: str, version: int, timeout: float = 180) -> list[dict]:
        return self.diagnostics_for(uri, version, timeout)["params"]["diagnostics"]

    def settled_diagnostics(self, uri: str, version: int) -> list[dict]:
        """The last diagnostics published for `version` once the server is idle: a server
        that has just started publishes a document's own findings first and, when its
        interprocedural index is ready a moment later, those through calls too."""
        self.diagnostics(uri, version)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            stats = self.request(
                "workspace/executeCommand", {"command": "kvmlock.serverStats"}
            ).get("result") or {}
            # Every publish sent before this answer has been read (one pipe, in order).
            if stats.get("index", {}).get("state") != "indexing" and not stats.get("pending"):
                break
            time.sleep(0.01)
        return self.last_published[(uri, version)]


OPTIONS = {"debounceMs": 10}


def start() -> Server:
    server = Server()
    server.initialize(None, OPTIONS)
    return server


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


class Sampler:
    """The highest VmRSS of a process, sampled every 20 ms while running."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, self.server.status_kb()["VmRSS"])
            except (OSError, KeyError):
                return
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def donors() -> list[str]:
    examples = sorted((HERE.parent / "examples").glob("*.c"))
    return [generate(150, 3), *(p.read_text(encoding="utf-8") for p in examples[::3])]


def soak(args, base: str, pastes: list[str]) -> dict:
    rng = random.Random(args.seed)
    main, reference = start(), start()
    text, version, edits, checks, checked = base, 1, 0, 0, 1
    kinds: Counter = Counter()
    mismatches: list[dict] = []
    crashes: list[dict] = []
    rss: list[dict] = []
    recent: list[str] = []
    since: list[list[dict]] = []  # the didChange contents since the last check
    checked_text = base  # the text at the last check
    started = time.perf_counter()
    main.open(URI, text)
    main.diagnostics(URI, 1)

    def restart(reason: str) -> None:
        nonlocal main, reference, text, version, checked, checked_text
        crashes.append(
            {
                "edits": edits,
                "reason": reason,
                "last_kinds": recent[-10:],
                "main_exit": main.proc.poll(),
                "reference_exit": reference.proc.poll(),
            }
        )
        for server in (main, reference):
            server.proc.kill()
            server.proc.wait()
        main, reference = start(), start()
        text, version, checked, checked_text = base, 1, 1, base
        since.clear()
        main.open(URI, text)
        main.diagnostics(URI, 1)

    def check() -> None:
        nonlocal checks, checked, checked_text
        checked = version
        got = main.diagnostics(URI, version)
        reference.open(URI, text, version)
        fresh = reference.settled_diagnostics(URI, version)
        reference.notify("textDocument/didClose", {"textDocument": {"uri": URI}})
        checks += 1
        status = main.status_kb()
        rss.append(
            {
                "edits": edits,
                "rss_mb": mb(status["VmRSS"]),
                "hwm_mb": mb(status["VmHWM"]),
                "text_kb": round(len(text.encode()) / 1024, 1),
            }
        )
        if json.dumps(got, sort_keys=True) != json.dumps(fresh, sort_keys=True):
            entry = {
                "edits": edits,
                "version": version,
                "last_kinds": recent[-10:],
                "published": len(got),
                "fresh": len(fresh),
            }
            if args.keep:
                keep = Path(args.keep)
                keep.mkdir(parents=True, exist_ok=True)
                name = keep / f"mismatch-{args.seed}-{edits}.json"
                # Enough to replay in process: the text at the last check (it matched) and
                # the changes since, with both servers' diagnostics.
                replay = {
                    "before": checked_text,
                    "changes": since,
                    "final": text,
                    "published": got,
                    "fresh": fresh,
                }
                name.write_text(json.dumps(replay), encoding="utf-8")
                entry["replay"] = str(name)
            mismatches.append(entry)
        checked_text = text
        since.clear()

    next_check = args.check_every
    while edits < args.edits and (not args.seconds or time.perf_counter() - started < args.seconds):
        changes = []
        for _ in range(rng.randint(1, 3)):
            if len(text) > 4 * len(base):  # keep the document from growing without bound
                kind, change = "replace-all", {"text": base}
            else:
                kind, change = make_edit(text, rng.randint, pastes)
            kinds[kind] += 1
            recent.append(kind)
            del recent[:-50]
            text = apply_change(text, change)
            changes.append(change)
            edits += 1
        version += 1
        since.append(changes)
        try:
            main.change(URI, version, changes)
            if rng.random() < 0.2:
                time.sleep(rng.random() * 0.03)
            if edits >= next_check:
                next_check += args.check_every
                check()
        except (OSError, TimeoutError) as exc:
            restart(f"{type(exc).__name__}: {exc}" if main.alive() else "server exited")
    if main.alive() and checked != version:
        try:
            check()
        except (OSError, TimeoutError) as exc:
            restart(f"{type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - started
    result = {
        "seed": args.seed,
        "edits": edits,
        "seconds": round(elapsed, 1),
        "checks": checks,
        "mismatches": mismatches,
        "crashes": crashes,
        "server_errors": main.errors + reference.errors,
        "kinds": dict(sorted(kinds.items())),
        "rss": rss,
        "peak_rss_mb": max((r["hwm_mb"] for r in rss), default=0.0),
    }
    if main.alive():
        # With PYTHONTRACEMALLOC set, the edited server says where its memory went.
        stats = main.request(
            "workspace/executeCommand", {"command": "kvmlock.serverStats"}
        ).get("result") or {}
        if "memory" in stats:
            result["memory"] = stats["memory"]
    burst_result = burst(args, main, reference, base, version) if args.burst else None
    for server in (main, reference):
        server.close()
    return {"soak": result, "burst": burst_result}


def burst(args, main: Server, reference: Server, base: str, version: int) -> dict:
    rng = random.Random(args.seed + 1)
    version += 1
    main.change(URI, version, [{"text": base}])
    main.diagnostics(URI, version)
    time.sleep(1.0)
    before = main.status_kb()["VmRSS"]
    snippets = ["x", "é", "😀", "{", "}", "#if 0\n", "\tmutex_lock(&kvm->lock);\n"]
    with Sampler(main) as sampler:
        for _ in range(args.burst // 2):
            at = rng.randrange(len(base))
            snippet = rng.choice(snippets)
            point = position_of(base, at)
            end = position_of(base[:at] + snippet, at + len(snippet))
            version += 1
            main.change(URI, version, [{"range": {"start": point, "end": point}, "text": snippet}])
            version += 1
            main.change(URI, version, [{"range": {"start": point, "end": end}, "text": ""}])
        got = main.diagnostics(URI, version)
    after = main.status_kb()["VmRSS"]
    time.sleep(2.0)
    idle = main.status_kb()["VmRSS"]
    reference.open(URI, base, version)
    fresh = reference.settled_diagnostics(URI, version)
    tolerance = max(0.05 * before, 8 * 1024)
    return {
        "changes": 2 * (args.burst // 2),
        "baseline_rss_mb": mb(before),
        "peak_rss_mb": mb(max(sampler.peak_kb, after)),
        "after_rss_mb": mb(after),
        "after_idle_rss_mb": mb(idle),
        "returned": idle - before <= tolerance,
        "tolerance_mb": mb(int(tolerance)),
        "final_equals_fresh": json.dumps(got, sort_keys=True) == json.dumps(fresh, sort_keys=True),
        "server_errors": main.errors[:],
    }


def documents(args) -> dict:
    server = start()
    time.sleep(0.5)
    before = server.status_kb()["VmRSS"]
    rows = []
    for n in range(1, args.documents + 1):
        text = generate(args.lines, n)
        uri = f"file:///kvmlock-soak/docs/virt/kvm/doc{n}.c"
        started = time.perf_counter()
        server.open(uri, text)
        diagnostics = server.diagnostics(uri, 1)
        status = server.status_kb()
        rows.append(
            {
                "document": n,
                "bytes": len(text.encode()),
                "lines": text.count("\n") + 1,
                "open_s": round(time.perf_counter() - started, 2),
                "diagnostics": len(diagnostics),
                "rss_mb": mb(status["VmRSS"]),
                "hwm_mb": mb(status["VmHWM"]),
            }
        )
    time.sleep(1.0)
    status = server.status_kb()
    errors = server.errors[:]
    alive = server.alive()
    server.close()
    count = max(len(rows), 1)
    return {
        "count": len(rows),
        "lines": args.lines,
        "rss_before_mb": mb(before),
        "rss_after_mb": mb(status["VmRSS"]),
        "peak_rss_mb": mb(status["VmHWM"]),
        "per_document_mb": round((status["VmRSS"] - before) / 1024 / count, 2),
        "server_alive": alive,
        "server_errors": errors,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edits", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no)")
    parser.add_argument("--check-every", type=int, default=25)
    parser.add_argument("--base-lines", type=int, default=600)
    parser.add_argument("--burst", type=int, default=1000, help="changes in the burst (0: none)")
    parser.add_argument("--documents", type=int, default=0, help="documents mode: N files")
    parser.add_argument("--lines", type=int, default=10_000, help="lines per document")
    parser.add_argument("--keep", help="directory for replays of mismatches (JSON)")
    parser.add_argument(
        "--no-interprocedural", action="store_true", help="the setting off in both servers"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.no_interprocedural:
        OPTIONS["interprocedural"] = False
    if args.quick:
        args.edits, args.check_every, args.base_lines, args.burst = 60, 10, 300, 100
        args.documents, args.lines = 3, 500

    result: dict = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": os.getloadavg(),
        "command": " ".join(sys.argv),
        "options": OPTIONS,
    }
    if not args.documents or args.quick:
        base = generate(args.base_lines, 8)
        result.update(soak(args, base, [base, base, base, *donors()]))
        s = result["soak"]
        print(
            f"soak: {s['edits']} edits in {s['seconds']} s, {s['checks']} checks, "
            f"{len(s['mismatches'])} mismatches, {len(s['crashes'])} crashes, "
            f"{len(s['server_errors'])} server errors, peak RSS {s['peak_rss_mb']} MB"
        )
        b = result["burst"]
        if b:
            print(
                f"burst of {b['changes']}: RSS {b['baseline_rss_mb']} MB before, peak "
                f"{b['peak_rss_mb']}, after {b['after_rss_mb']}, after 2 s "
                f"{b['after_idle_rss_mb']} (returned: {b['returned']}); final equals fresh: "
                f"{b['final_equals_fresh']}"
            )
    if args.documents:
        d = documents(args)
        result["documents"] = d
        print(
            f"documents: {d['count']} x {d['lines']} lines: RSS {d['rss_before_mb']} MB "
            f"before, {d['rss_after_mb']} MB after, {d['per_document_mb']} MB per document, "
            f"peak {d['peak_rss_mb']} MB"
        )
    result["load_after"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
