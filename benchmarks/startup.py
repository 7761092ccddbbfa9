"""Startup: `kvmlock serve` from process start to its answer to `initialize` and to the first
diagnostics of a small file, and `kvmlock check` of one small file from process start to exit.

    python benchmarks/startup.py [--repeat 10] [--json out.json]
    python benchmarks/startup.py --quick           # 2 runs each, for the test suite
    python benchmarks/startup.py --importtime      # also the slowest imports of each

All run the installed console script as a fresh process each time (best and median of
--repeat). The small file is examples' size: a generated 60-line kernel-style file, outside any
kernel tree (built-in rules). For the first diagnostics the client answers `initialize`
at once with `initialized` and a `didOpen` of the file, its directory the workspace (so the
workspace index of one file is built too, as in an editor).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from lsp_client import Client, serve_command  # noqa: E402


def check_command() -> list[str]:
    exe = Path(sys.executable).with_name("kvmlock")
    return [str(exe), "check"] if exe.exists() else [sys.executable, "-m", "kvmlock.cli", "check"]


def serve_once() -> float:
    client = Client()
    response = client.initialize(None)
    elapsed = response["_received"] - client.started
    client.close()
    return elapsed


def first_diagnostics_once(path: Path) -> tuple[float, float]:
    """Process start to the `initialize` answer, and to the first diagnostics of `path`."""
    client = Client()
    response = client.initialize(path.parent)
    uri = path.as_uri()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "c", "version": 1, "text": path.read_text()}},
    )
    published = client.diagnostics_for(uri, 1)
    client.close()
    return response["_received"] - client.started, published["_received"] - client.started


def check_once(path: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run([*check_command(), "--no-color", str(path)], capture_output=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr.decode())
    return elapsed


def slowest_imports(cmd: list[str], stdin: bytes | None = None, top: int = 8) -> list[str]:
    """`python -X importtime`: the modules with the largest cumulative import time."""
    python = Path(sys.executable)
    script = cmd[0]
    proc = subprocess.run(
        [str(python), "-X", "importtime", script, *cmd[1:]],
        capture_output=True,
        input=stdin,
        timeout=60,
    )
    rows = []
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (part.strip() for part in line[12:].split("|"))
            if not name.startswith(" "):
                rows.append((int(cumulative), name))
    # Top-level packages only (no leading spaces in `name` after strip means any depth, so
    # keep the biggest cumulative entries).
    rows.sort(reverse=True)
    return [f"{us / 1000:.0f} ms {name}" for us, name in rows[:top]]


def summary(seconds: list[float]) -> dict[str, float]:
    return {
        "best": round(min(seconds) * 1000, 1),
        "median": round(statistics.median(seconds) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    repeat = 2 if args.quick else args.repeat

    with tempfile.TemporaryDirectory(prefix="kvmlock-startup-") as tmp:
        small = Path(tmp) / "small.c"
        small.write_text(generate(60))
        load = os.getloadavg()
        serve = [serve_once() for _ in range(repeat)]
        first = [first_diagnostics_once(small)[1] for _ in range(repeat)]
        check = [check_once(small) for _ in range(repeat)]
        result = {
            "load": load,
            "repeat": repeat,
            "serve_initialize_ms": summary(serve),
            "serve_first_diagnostics_ms": summary(first),
            "check_small_file_ms": summary(check),
        }
        if args.importtime:
            init = json.dumps(
                {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
            ).encode()
            message = b"Content-Length: %d\r\n\r\n" % len(init) + init
            exit_ = b'{"jsonrpc": "2.0", "method": "exit"}'
            message += b"Content-Length: %d\r\n\r\n" % len(exit_) + exit_
            result["serve_imports"] = slowest_imports(serve_command(), stdin=message)
            result["check_imports"] = slowest_imports([*check_command(), str(small)])
    print(f"load {load[0]:.2f}; {repeat} runs each")
    s, c = result["serve_initialize_ms"], result["check_small_file_ms"]
    f = result["serve_first_diagnostics_ms"]
    print(f"  kvmlock serve → initialize answered: best {s['best']} ms, median {s['median']} ms")
    print(
        f"  kvmlock serve → first diagnostics of small.c: best {f['best']} ms, "
        f"median {f['median']} ms"
    )
    print(f"  kvmlock check small.c (60 lines): best {c['best']} ms, median {c['median']} ms")
    for key in ("serve_imports", "check_imports"):
        if key in result:
            print(f"  {key}: " + "; ".join(result[key]))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
