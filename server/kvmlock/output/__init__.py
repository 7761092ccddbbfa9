"""Report formats for findings: text (gcc style), JSON and SARIF.

Renderers only format Findings; what a finding says is decided by the analysis.
"""

from __future__ import annotations

# Where the project and its per-check documentation live; SARIF viewers link here.
PROJECT_URL = "https://github.com/kvmlock/kvm-lock-lsp"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"


def rule_help_uri(rule_id: str) -> str:
    return f"{RULES_DOC_URL}#{rule_id}"


def display_severity(severity: str) -> str:
    """The analysis says "info"; gcc-style text and SARIF both call that level "note"."""
    return "note" if severity == "info" else severity
