"""A deliberately raw JSON-RPC client over stdio, for sending what a real client never would."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
from typing import Any


class RawClient:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kvmlock", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.messages: queue.Queue[dict] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
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
            body = stream.read(length)
            try:
                self.messages.put(json.loads(body))
            except ValueError:
                self.messages.put({"unparsable": body.decode("utf-8", "replace")})

    def send_raw(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode())

    def request(self, method: str, params: Any = None) -> int:
        self._next_id += 1
        message = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def response(self, request_id: int, timeout: float = 20) -> dict:
        return self.wait(lambda m: m.get("id") == request_id and "method" not in m, timeout)

    def wait(self, predicate, timeout: float = 20) -> dict:
        import time

        deadline = time.monotonic() + timeout
        kept = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no matching message from the server")
                try:
                    message = self.messages.get(timeout=left)
                except queue.Empty:
                    raise AssertionError("no matching message from the server") from None
                if predicate(message):
                    return message
                kept.append(message)
        finally:
            for message in kept:
                self.messages.put(message)

    def initialize(self, root: str | None = None) -> dict:
        reply = self.response(
            self.request("initialize", {"processId": None, "rootUri": root, "capabilities": {}})
        )
        self.notify("initialized", {})
        return reply

    def close(self) -> int:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
