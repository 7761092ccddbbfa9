"""The publishDiagnostics message the server writes itself (each diagnostic's JSON made
once, lsp.protocol) is the message pygls would have written."""

from __future__ import annotations

import json

from lsprotocol import types
from pygls.protocol import default_converter

from kvmlock.lsp.protocol import publish_body


def diagnostic(line: int, message: str, related: bool) -> types.Diagnostic:
    at = types.Range(types.Position(line, 1), types.Position(line, 9))
    return types.Diagnostic(
        range=at,
        message=message,
        severity=types.DiagnosticSeverity.Error,
        code="lock-order",
        code_description=types.CodeDescription(href="https://example.org/rules#lock-order"),
        source="kvmlock",
        related_information=[
            types.DiagnosticRelatedInformation(
                location=types.Location(uri="file:///t/x.c", range=at), message="taken here"
            )
        ]
        if related
        else None,
        data={"rule": "lock-order"},
    )


def test_same_message_as_pygls():
    converter = default_converter()
    diagnostics = [
        diagnostic(3, "mutex_lock(&kvm->lock) while holding vcpu->mutex — “quoted”", True),
        diagnostic(40, 'a "plain" one', False),
    ]
    for uri, version in (("file:///t/caf%C3%A9%20x.c", 7), ("file:///t/é.c", None)):
        notification = types.PublishDiagnosticsNotification(
            params=types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=version
            )
        )
        expected = json.dumps(converter.unstructure(notification))
        ours = publish_body(
            uri, version, [json.dumps(converter.unstructure(d)) for d in diagnostics]
        )
        assert json.loads(ours) == json.loads(expected)
        assert ours.isascii()  # Content-Length counts characters
    assert json.loads(publish_body("file:///t/x.c", 2, []))["params"]["diagnostics"] == []
