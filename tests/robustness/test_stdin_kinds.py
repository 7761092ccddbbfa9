"""`kvmlock serve` reads stdin on its event loop when it is a pipe or socket and through
pygls's reader thread otherwise (a file, say): both answer the same conversation."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def framed(*messages: dict) -> bytes:
    out = b""
    for message in messages:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        out += b"Content-Length: %d\r\n\r\n" % len(body) + body
    return out


CONVERSATION = framed(
    {"id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}},
    {"method": "initialized", "params": {}},
    {"id": 2, "method": "shutdown"},
    {"method": "exit"},
)


def answers(stdout: bytes) -> dict[int, dict]:
    found = {}
    for chunk in stdout.split(b"Content-Length: ")[1:]:
        body = chunk.split(b"\r\n\r\n", 1)[1]
        message = json.loads(body[: int(chunk.split(b"\r\n", 1)[0])])
        if "id" in message and "method" not in message:
            found[message["id"]] = message
    return found


def check(proc: subprocess.CompletedProcess) -> None:
    got = answers(proc.stdout)
    assert got[1]["result"]["serverInfo"]["name"] == "kvmlock"
    assert got[2]["result"] is None
    assert proc.returncode == 0, proc.stderr[-2000:]


def serve(stdin) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kvmlock", "serve"],
        stdin=stdin,
        capture_output=True,
        timeout=60,
    )


def test_stdin_a_pipe():
    proc = subprocess.run(
        [sys.executable, "-m", "kvmlock", "serve"],
        input=CONVERSATION,
        capture_output=True,
        timeout=60,
    )
    check(proc)


def test_stdin_a_file(tmp_path: Path):
    messages = tmp_path / "messages"
    messages.write_bytes(CONVERSATION)
    with messages.open("rb") as fh:
        check(serve(fh))


@pytest.mark.skipif(not hasattr(socket, "socketpair"), reason="no socketpair")
def test_stdin_a_socket():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(CONVERSATION)
        ours.shutdown(socket.SHUT_WR)
        check(serve(theirs.fileno()))
