"""What an editor should never send, sent to the real server: it answers with the error the
specification prescribes or logs and ignores it, keeps serving the other documents, and exits
cleanly on `exit`."""

from __future__ import annotations

import pytest
from rpc_client import RawClient

C_TEXT = (
    "static void f(struct kvm *kvm)\n{\n\tmutex_lock(&kvm->lock);\n"
    "\tmutex_lock(&kvm->lock);\n\tmutex_unlock(&kvm->lock);\n\tmutex_unlock(&kvm->lock);\n}\n"
)


@pytest.fixture
def server():
    client = RawClient()
    yield client
    client.close()


def open_doc(client: RawClient, uri: str, text: str = C_TEXT, version: int = 1) -> None:
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "c", "version": version, "text": text}},
    )


def diagnostics(client: RawClient, uri: str, version: int | None = None) -> list:
    message = client.wait(
        lambda m: m.get("method") == "textDocument/publishDiagnostics"
        and m["params"]["uri"] == uri
        and (version is None or m["params"].get("version") == version)
    )
    return message["params"]["diagnostics"]


def test_request_before_initialize_is_refused(server: RawClient):
    reply = server.response(server.request("textDocument/hover", {
        "textDocument": {"uri": "file:///x.c"}, "position": {"line": 0, "character": 0}}))
    assert reply["error"]["code"] == -32002  # ServerNotInitialized
    assert "result" in server.initialize()


def test_garbage_then_normal_service(server: RawClient):
    server.initialize()
    server.send_raw(b"{this is not json")
    server.send_raw(b'{"jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "params": 3}')
    bad = server.response(99)
    assert bad["error"]["code"] in (-32602, -32603)  # invalid params (or internal error)
    unknown = server.response(server.request("kvmlock/noSuchMethod", {}))
    assert unknown["error"]["code"] == -32601  # MethodNotFound
    server.notify("$/noSuchNotification", {})  # $/ notifications may be ignored silently
    # A change for a document never opened, then versions going backwards.
    server.notify("textDocument/didChange", {
        "textDocument": {"uri": "file:///never.c", "version": 3},
        "contentChanges": [{"text": "x"}]})
    open_doc(server, "file:///t/a.c", version=5)
    assert [d["code"] for d in diagnostics(server, "file:///t/a.c", 5)] == ["double-lock"]
    server.notify("textDocument/didChange", {
        "textDocument": {"uri": "file:///t/a.c", "version": 4},
        "contentChanges": [{"text": C_TEXT.replace("\tmutex_lock(&kvm->lock);\n", "", 1)
                            .replace("\tmutex_unlock(&kvm->lock);\n", "", 1)}]})
    assert diagnostics(server, "file:///t/a.c", 4) == []
    # Positions far outside the document.
    hover = server.response(server.request("textDocument/hover", {
        "textDocument": {"uri": "file:///t/a.c"}, "position": {"line": 9999, "character": 9999}}))
    assert "error" not in hover


def test_shutdown_then_requests_then_exit(server: RawClient):
    server.initialize()
    open_doc(server, "file:///t/b.c")
    diagnostics(server, "file:///t/b.c", 1)
    assert server.response(server.request("shutdown"))["result"] is None
    after = server.response(server.request("textDocument/hover", {
        "textDocument": {"uri": "file:///t/b.c"}, "position": {"line": 2, "character": 3}}))
    assert after["error"]["code"] == -32600  # InvalidRequest after shutdown
    server.notify("exit")
    assert server.proc.wait(timeout=10) == 0


def test_exit_without_shutdown_is_an_error_exit(server: RawClient):
    server.initialize()
    server.notify("exit")
    assert server.proc.wait(timeout=10) == 1


def test_client_vanishing_mid_request_ends_the_server(server: RawClient):
    server.initialize()
    open_doc(server, "file:///t/c.c")
    server.request("textDocument/hover", {
        "textDocument": {"uri": "file:///t/c.c"}, "position": {"line": 2, "character": 3}})
    server.proc.stdin.close()  # type: ignore[union-attr]
    assert server.proc.wait(timeout=10) in (0, 1)


def test_huge_buffer_is_declined_with_a_diagnostic_and_others_still_served(server: RawClient):
    server.response(server.request("initialize", {
        "processId": None, "rootUri": None, "capabilities": {},
        "initializationOptions": {"maxFileBytes": 100_000, "debounceMs": 0}}))
    server.notify("initialized", {})
    huge = "/* filler */\n" * 400_000  # 5.2 MB
    open_doc(server, "file:///t/huge.c", huge)
    (note,) = diagnostics(server, "file:///t/huge.c", 1)
    assert note["severity"] == 3 and "maxFileBytes" in note["message"]
    open_doc(server, "file:///t/small.c")
    assert [d["code"] for d in diagnostics(server, "file:///t/small.c", 1)] == ["double-lock"]
