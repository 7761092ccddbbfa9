"""clangd next to `kvmlock serve`: didChange → publishDiagnostics for the same edits.

    bash benchmarks/peers/install.sh                   # Debian clangd, once
    python benchmarks/peers/clangd.py [--corpus DIR] [--edits 50] [--json out.json]

clangd needs to compile the file, so a compile database is built outside the repository in
~/.cache/kvmlock/clangd: the full include/ and arch/x86/include of the same Debian
linux-source-6.1 tarball (untarred from the .deb benchmarks/corpus.py fetched), and the
generated headers of a Debian-configured kernel (include/generated, include/config,
arch/x86/include/generated) from `apt-get download linux-headers-<abi>-amd64` + `dpkg -x`
(6.1.170 there: the nearest ABI package to the 6.1.176 source). The flags are those kbuild
passes for an x86-64 module (-nostdinc, the include paths, -include kconfig.h and
compiler_types.h, -D__KERNEL__, the -m flags), plus -I arch/x86/kvm and virt/kvm.

Both servers run over stdio as subprocesses with the same client; kvmlock with debounceMs 0,
clangd with its own defaults (`--background-index=false`, `-j=2`). Per file: open and wait
for the first diagnostics, then the edits of benchmarks/edit_latency.py, each waited for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from corpus import KEY_FILES, add_corpus_argument, cache_dir, resolve_corpus  # noqa: E402
from edit_latency import edit_plan, percentile  # noqa: E402
from lsp_client import Client  # noqa: E402
from server_lsp import utf16_position  # noqa: E402

HEADERS_PACKAGE = "linux-headers-6.1.0-47-amd64"


def kernel_headers() -> tuple[Path, Path]:
    """(full source tree with include/ and arch/x86/include, generated headers tree)."""
    base = Path.home() / ".cache" / "kvmlock" / "clangd"
    base.mkdir(parents=True, exist_ok=True)
    full = base / "full" / "linux-source-6.1"
    if not (full / "include/linux/kconfig.h").is_file():
        tarball = cache_dir() / "pkg/usr/src/linux-source-6.1.tar.xz"
        if not tarball.is_file():
            raise SystemExit("run benchmarks/corpus.py first")
        (base / "full").mkdir(exist_ok=True)
        subprocess.run(
            [
                *("tar", "-xJf", str(tarball), "-C", str(base / "full")),
                *("linux-source-6.1/include", "linux-source-6.1/arch/x86/include"),
            ],
            check=True,
        )
    gen = base / "pkg" / "usr" / "src" / HEADERS_PACKAGE
    if not (gen / "include/generated/autoconf.h").is_file():
        if not list(base.glob(f"{HEADERS_PACKAGE}_*.deb")):
            subprocess.run(["apt-get", "download", HEADERS_PACKAGE], cwd=base, check=True)
        deb = sorted(base.glob(f"{HEADERS_PACKAGE}_*.deb"))[-1]
        subprocess.run(["dpkg", "-x", str(deb), str(base / "pkg")], check=True)
    return full, gen


def compile_flags(root: Path, full: Path, gen: Path, path: str) -> list[str]:
    name = Path(path).stem
    return [
        "clang",
        "-nostdinc",
        f"-I{full}/arch/x86/include",
        f"-I{gen}/arch/x86/include/generated",
        f"-I{full}/include",
        f"-I{gen}/include",
        f"-I{full}/arch/x86/include/uapi",
        f"-I{gen}/arch/x86/include/generated/uapi",
        f"-I{full}/include/uapi",
        f"-I{gen}/include/generated/uapi",
        "-include",
        f"{full}/include/linux/compiler-version.h",
        "-include",
        f"{full}/include/linux/kconfig.h",
        "-include",
        f"{full}/include/linux/compiler_types.h",
        "-D__KERNEL__",
        "-DMODULE",
        "-DCC_USING_FENTRY",  # kbuild's -mfentry build (CONFIG_FUNCTION_TRACER); asm/ftrace.h
        f'-DKBUILD_BASENAME="{name}"',
        '-DKBUILD_MODNAME="kvm"',
        "-D__KBUILD_MODNAME=kmod_kvm",
        f"-I{root}/arch/x86/kvm",
        f"-I{root}/virt/kvm",
        "-std=gnu11",
        "-fno-strict-aliasing",
        "-fno-common",
        "-fshort-wchar",
        "-funsigned-char",
        "-m64",
        "-mno-sse",
        "-mno-mmx",
        "-mno-sse2",
        "-mno-3dnow",
        "-mno-avx",
        "-mno-red-zone",
        "-mcmodel=kernel",
        "-Wno-gnu",
        "-c",
        str(root / path),
    ]


def run_server(cmd: list[str], root: Path, files: list[str], edits: int, options: dict) -> dict:
    client = Client(cmd)
    client.initialize(root, options)
    out: dict = {"open_ms": {}, "edits": {}}
    for rel in files:
        path = root / rel
        uri = path.as_uri()
        text = path.read_bytes()
        started = time.perf_counter()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "c", "version": 1, "text": text.decode()}},
        )
        got = client.diagnostics_for(uri, 1, timeout=300)
        out["open_ms"][path.name] = round((got["_received"] - started) * 1000, 1)
        if client.progress:  # kvmlock's workspace index: edits measured after it ends
            client.progress_done(timeout=300)
        found = got["params"]["diagnostics"]
        out.setdefault("diagnostics_at_open", {})[path.name] = len(found)
        out.setdefault("first_messages", {})[path.name] = [
            f"{d['range']['start']['line'] + 1}: {d['message'].splitlines()[0]}" for d in found[:4]
        ]
        times = []
        for version, (at, char) in enumerate(edit_plan(text, edits), start=2):
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
            text = text[:at] + char + text[at:]
            got = client.diagnostics_for(uri, version, timeout=300)
            times.append(got["_received"] - started)
        out["edits"][path.name] = {
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p99_ms": round(percentile(times, 0.99) * 1000, 1),
        }
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    out["peak_rss_mb"] = round(client.vm_hwm_kb() / 1024, 1)
    client.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_argument(parser)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--json")
    args = parser.parse_args()
    clangd = shutil.which("clangd")
    if not clangd:
        raise SystemExit("clangd not installed: bash benchmarks/peers/install.sh")
    root = resolve_corpus(args.corpus)
    full, gen = kernel_headers()
    with tempfile.TemporaryDirectory(prefix="kvmlock-clangd-") as tmp:
        database = [
            {
                "directory": str(root),
                "file": str(root / f),
                "arguments": compile_flags(root, full, gen, f),
            }
            for f in KEY_FILES
        ]
        Path(tmp, "compile_commands.json").write_text(json.dumps(database, indent=1))
        load = os.getloadavg()
        results = {
            "load": load,
            "clangd": run_server(
                [clangd, f"--compile-commands-dir={tmp}", "--background-index=false", "-j=2"],
                root,
                list(KEY_FILES),
                args.edits,
                {},
            ),
            "kvmlock": run_server(None, root, list(KEY_FILES), args.edits, {"debounceMs": 0}),
        }
    print(f"load {load[0]:.2f}; {args.edits} edits per file")
    for tool in ("clangd", "kvmlock"):
        r = results[tool]
        print(f"  {tool}: open ms {r['open_ms']}  peak RSS {r['peak_rss_mb']} MB")
        if tool == "clangd":
            print(f"    diagnostics at open: {r['diagnostics_at_open']}")
            for name, messages in r["first_messages"].items():
                print(f"      {name}: {messages}")
        for name, q in r["edits"].items():
            print(
                f"    {name}: didChange → publishDiagnostics"
                f" p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
