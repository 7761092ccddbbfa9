"""A minimal LSP client over stdio for the benchmarks: JSON-RPC framing, no asyncio.

It starts the real `kvmlock serve` as a subprocess, so what it measures includes process
start, imports, the protocol and the server's own scheduling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue


def serve_command() -> list[str]:
    """`kvmlock serve`, or KVMLOCK_SERVE_CMD (e.g. the server under a profiler)."""
    exe = Path(sys.executable).with_name("kvmlock")
    if os.environ.get("KVMLOCK_SERVE_CMD"):
        return os.environ["KVMLOCK_SERVE_CMD"].split()
    return [str(exe), "serve"] if exe.exists() else [sys.executable, "-m", "kvmlock.cli", "serve"]


class Client:
    def __init__(self, cmd: list[str] | None = None) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd or serve_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: Queue[dict] = Queue()
        self.progress: list[dict] = []  # every $/progress notification, with "_received"
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length is None:
                continue
            message = json.loads(out.read(length))
            message["_received"] = time.perf_counter()
            if message.get("method") == "$/progress":
                self.progress.append(message)
            self.messages.put(message)

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict, timeout: float = 60) -> dict:
        self._next_id += 1
        ident = self._next_id
        self.send({"id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident and "method" not in m, timeout)

    def wait(self, match, timeout: float = 60) -> dict:
        """The next message `match` accepts; answers server requests on the way."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("no matching message from the server")
            try:
                message = self.messages.get(timeout=left)
            except Empty:
                continue
            if "method" in message and "id" in message:  # a request to the client
                result = [{}] * len(message.get("params", {}).get("items", []))
                self.send({"id": message["id"], "result": result or None})
            if match(message):
                return message

    def initialize(self, root: Path | None, options: dict | None = None) -> dict:
        result = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri() if root else None,
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "window": {"workDoneProgress": True},
                },
                "initializationOptions": options or {},
            },
        )
        self.notify("initialized", {})
        return result

    def diagnostics_for(self, uri: str, version: int, timeout: float = 120) -> dict:
        return self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and m["params"].get("version") == version
            ),
            timeout,
        )

    def progress_done(self, timeout: float = 300) -> float | None:
        """Wait until every work-done progress begun so far has ended (e.g. a workspace
        index); the time from the first begin to the last end, None if none began."""
        deadline = time.perf_counter() + timeout
        while True:
            begun = {m["params"]["token"] for m in self.progress if _kind(m) == "begin"}
            ended = {m["params"]["token"] for m in self.progress if _kind(m) == "end"}
            if begun and begun <= ended:
                first = min(m["_received"] for m in self.progress if _kind(m) == "begin")
                last = max(m["_received"] for m in self.progress if _kind(m) == "end")
                return last - first
            if time.perf_counter() > deadline:
                return None
            time.sleep(0.05)

    def vm_hwm_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    def close(self) -> None:
        try:
            self.request("shutdown", {}, timeout=10)
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def _kind(message: dict) -> str | None:
    value = message.get("params", {}).get("value")
    return value.get("kind") if isinstance(value, dict) else None
