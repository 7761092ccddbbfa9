"""The JSON report. Its shape is a contract for scripts and CI:

    {"version": 1, "findings": [{"path", "line", "column", "end_line", "end_column", "rule",
     "severity", "message", "citation": {"document", "section", "line"} | null}]}

Lines and columns are 1-based; findings are sorted by path, line, column. Add a key only
together with a version bump.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kvmlock.analysis.findings import Finding

JSON_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    citation = finding.citation
    return {
        "path": finding.path,
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "citation": None
        if citation is None
        else {"document": citation.document, "section": citation.section, "line": citation.line},
    }


def render_json(findings: Iterable[Finding]) -> dict[str, Any]:
    ordered = sorted(findings, key=lambda f: f.sort_key())
    return {"version": JSON_VERSION, "findings": [finding_dict(f) for f in ordered]}
