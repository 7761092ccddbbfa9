"""Findings as LSP diagnostics: the renderer for the editor front end."""

from __future__ import annotations

from functools import lru_cache
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


# Diagnostics already built, by everything they are made of. Every keystroke publishes all
# of a file's diagnostics again, and most of them are those of the keystroke before: the
# findings of functions the edit did not touch, at the same lines.
_BUILT: dict[tuple, types.Diagnostic] = {}
_BUILT_LIMIT = 4096  # ~1.5 KB each: a few MB at most


def to_diagnostic(
    finding: Finding, uri: str, index: LineIndex, encoding: str, settings: Settings
) -> types.Diagnostic:
    span = finding.span
    severity = settings.severity_for(finding.rule, finding.severity)
    data = index.data
    start, end = span.start_byte, span.end_byte
    key = (
        uri,
        encoding,
        severity,
        finding.rule,
        finding.message,
        finding.related,
        span.line,
        span.end_line,
        # The text before each end on its line decides the character offsets.
        data[data.rfind(b"\n", 0, start) + 1 : start],
        data[data.rfind(b"\n", 0, end) + 1 : end],
    )
    built = _BUILT.get(key)
    if built is None:
        if len(_BUILT) >= _BUILT_LIMIT:
            _BUILT.clear()
        built = _BUILT[key] = _build(finding, uri, index, encoding, severity)
    return built


def _build(
    finding: Finding, uri: str, index: LineIndex, encoding: str, severity: str
) -> types.Diagnostic:
    start = index.position(finding.span.start_byte, encoding)
    end = index.position(finding.span.end_byte, encoding)
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


@lru_cache(maxsize=1024)
def _file_uri(path: str) -> str | None:
    # Cached: every keystroke re-renders each related location, and they name the same few
    # files (the rules' locking.rst, callees' files) again and again.
    candidate = Path(path)
    if not candidate.is_absolute() or not candidate.is_file():
        return None  # e.g. the built-in pack: nothing to open
    return candidate.as_uri()
