"""Findings as LSP diagnostics: the renderer for the editor front end."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from kvmlock.analysis.findings import Finding
from kvmlock.lsp.positions import LineIndex
from kvmlock.lsp.settings import Settings
from kvmlock.output import RULES_DOC_URL

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def to_diagnostic(
    finding: Finding, uri: str, index: LineIndex, encoding: str, settings: Settings
) -> types.Diagnostic:
    start = index.position(finding.span.start_byte, encoding)
    end = index.position(finding.span.end_byte, encoding)
    severity = settings.severity_for(finding.rule, finding.severity)
    related = []
    for item in finding.related:
        target = uri if item.path == finding.path else _file_uri(item.path)
        if target is None:
            continue
        point = types.Position(line=max(item.line - 1, 0), character=max(item.column - 1, 0))
        related.append(
            types.DiagnosticRelatedInformation(
                location=types.Location(uri=target, range=types.Range(point, point)),
                message=item.message,
            )
        )
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=finding.message,
        severity=_SEVERITY.get(severity, types.DiagnosticSeverity.Warning),
        code=finding.rule,
        code_description=types.CodeDescription(href=f"{RULES_DOC_URL}#{finding.rule}"),
        source="kvmlock",
        related_information=related or None,
        data={"rule": finding.rule},
    )


def _file_uri(path: str) -> str | None:
    candidate = Path(path)
    if not candidate.is_absolute() or not candidate.is_file():
        return None  # e.g. the built-in pack: nothing to open
    return candidate.as_uri()
