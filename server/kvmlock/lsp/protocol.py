"""JSON-RPC rules pygls leaves to the server, enforced as the LSP specification states them:
a request before `initialize` gets ServerNotInitialized, one after `shutdown` gets
InvalidRequest, and a request whose params cannot be read gets InvalidParams — an answer,
never silence, so no client waits forever."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger("kvmlock.lsp")

SERVER_NOT_INITIALIZED = -32002
INVALID_REQUEST = -32600
_ENCODED_LIMIT = 8192  # diagnostics' JSON text kept: a few MB at most


class _Answered:
    """Stands in for a message already answered with an error while it was being read."""

    jsonrpc = "answered"


class KvmlockProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_seen = False
        # JSON text of published diagnostics, by id (the diagnostic is kept: ids stay unique).
        self._encoded: dict[int, tuple[types.Diagnostic, str]] = {}
        self._writing: set[asyncio.Future] = set()

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, error.to_response_error())
            else:
                log.warning("ignored an unreadable notification %r", data.get("method"))
            return _Answered()

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Answered) or not hasattr(message, "jsonrpc"):
            return
        method = getattr(message, "method", None)
        is_request = method is not None and getattr(message, "id", None) is not None
        if method == types.INITIALIZE:
            self.initialize_seen = True
        elif not self.initialize_seen and method not in (None, types.EXIT):
            if is_request:
                self._error(message.id, SERVER_NOT_INITIALIZED, "the server is not initialized")
            else:
                log.warning("dropped %s sent before initialize", method)
            return
        if self._shutdown and is_request and method != types.EXIT:
            self._error(message.id, INVALID_REQUEST, "the server is shutting down")
            return
        super().handle_message(message)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        super()._handle_notification(method_name, params)
        # pygls files the future of a notification whose handler is a generator (didOpen,
        # didChange, didClose, ...) under a fresh uuid and never removes it: ~1 KB per
        # keystroke for as long as the server runs (found by the soak with tracemalloc).
        futures = self._request_futures
        for key in [key for key, future in futures.items() if future.done()]:
            futures.pop(key, None)

    def publish_diagnostics(
        self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]
    ) -> None:
        """textDocument/publishDiagnostics, each diagnostic turned into JSON text once.

        Every keystroke publishes all of a file's diagnostics again, and most are the very
        objects published before (see lsp.diagnostics). pygls would unstructure and encode
        each one anew: ~7 µs apiece, most of a keystroke's cost over stdio in a file with a
        hundred findings. The text is what pygls sends (same converter, same encoder).
        """
        body = publish_body(uri, version, [self._json(d) for d in diagnostics])
        if self.writer is None:
            log.error("no transport to publish diagnostics on")
            return
        header = ""
        if self._include_headers:
            header = (
                f"Content-Length: {len(body)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            )
        written = self.writer.write((header + body).encode(self.CHARSET))
        if inspect.isawaitable(written):  # a websocket's writer
            task = asyncio.ensure_future(written)
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)

    def _json(self, diagnostic: types.Diagnostic) -> str:
        found = self._encoded.get(id(diagnostic))
        if found is None or found[0] is not diagnostic:
            if len(self._encoded) >= _ENCODED_LIMIT:
                self._encoded.clear()
            found = (diagnostic, json.dumps(self._converter.unstructure(diagnostic)))
            self._encoded[id(diagnostic)] = found
        return found[1]

    def _error(self, msg_id: Any, code: int, text: str) -> None:
        self._send_response(msg_id, None, types.ResponseError(code=code, message=text))

    # Text synchronisation: the server keeps its own bytes per open document
    # (lsp.documents.OpenDocument). pygls's own copy is never read, and pygls rebuilds it line
    # by line for every change (~4 ms per keystroke on x86.c, the largest cost of a keystroke
    # over stdio), so these handlers only pass the notification on.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        yield from self._pass_on(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        yield from self._pass_on(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        yield from self._pass_on(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _pass_on(self, method: str, params: Any):
        """To the server's own handler, the way pygls's built-in handlers do."""
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None


def publish_body(uri: str, version: int | None, diagnostics: list[str]) -> str:
    """The JSON-RPC message of textDocument/publishDiagnostics, from the diagnostics' JSON
    texts (json.dumps's defaults, ASCII: the Content-Length is the text's length)."""
    params = f'{{"uri": {json.dumps(uri)}, "diagnostics": [{", ".join(diagnostics)}]'
    if version is not None:
        params += f', "version": {int(version)}'
    method = json.dumps(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return f'{{"jsonrpc": "2.0", "method": {method}, "params": {params}}}}}'
