"""SARIF 2.1.0, for code-scanning dashboards (GitHub, GitLab, VS Code's SARIF viewer).

Paths are written relative to the working directory under the SRCROOT base id, which is how
those tools map results back onto a checkout. Plain dicts: no SARIF library is needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kvmlock import __version__
from kvmlock.output import PROJECT_URL, display_severity, rule_help_uri

if TYPE_CHECKING:
    from kvmlock.analysis.checks import Check
    from kvmlock.analysis.findings import Finding, Related

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "SRCROOT"


def render_sarif(
    findings: Iterable[Finding],
    errors: Sequence[str] = (),
    checks: dict[str, Check] | None = None,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """A SARIF log with one run. `errors` are files that could not be checked; they become
    tool notifications, so a dashboard shows the run was incomplete. `warnings` (a symbolic
    link loop, a file deleted during the run) are notifications that leave it successful."""
    if checks is None:
        from kvmlock.analysis.checks import registry

        checks = registry()
    ordered = sorted(findings, key=lambda f: f.sort_key())
    rules = [_rule(check) for check in checks.values()]
    index = {check_id: position for position, check_id in enumerate(checks)}
    for finding in ordered:
        if finding.rule not in index:  # e.g. the engine's "analysis-skipped" note
            index[finding.rule] = len(rules)
            rules.append(_extra_rule(finding.rule))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kvmlock",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT_URL,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri() + "/"}},
        "results": [_result(f, index[f.rule]) for f in ordered],
        "invocations": [
            {
                "executionSuccessful": not errors,
                "toolExecutionNotifications": [
                    *({"level": "error", "message": {"text": error}} for error in errors),
                    *({"level": "warning", "message": {"text": text}} for text in warnings),
                ],
            }
        ],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.id.split("-")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": " ".join((check.what or check.title).split())},
        "helpUri": rule_help_uri(check.id),
        "help": {"text": " ".join((check.why or check.what or check.title).split())},
        "defaultConfiguration": {"level": display_severity(check.severity)},
    }


def _extra_rule(rule_id: str) -> dict[str, Any]:
    text = "Notes from kvmlock about code it could not analyse"
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": text},
        "fullDescription": {"text": text + "."},
        "helpUri": rule_help_uri(rule_id),
        "defaultConfiguration": {"level": "note"},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    span = finding.span
    citation = finding.citation
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": display_severity(finding.severity),
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact(finding.path),
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.column,
                        "endLine": span.end_line,
                        "endColumn": span.end_column,
                    },
                }
            }
        ],
        "relatedLocations": [_related(i, r) for i, r in enumerate(finding.related)],
        "properties": {
            "citation": None
            if citation is None
            else {
                "document": citation.document,
                "section": citation.section,
                "line": citation.line,
            },
            "function": finding.function,
        },
    }


def _related(position: int, related: Related) -> dict[str, Any]:
    location: dict[str, Any] = {"id": position, "message": {"text": related.message}}
    # The built-in pack's citations name a document that is not on disk: such a location
    # keeps its message (which says where) but gets no file a viewer would fail to open.
    if os.path.isfile(related.path):
        location["physicalLocation"] = {
            "artifactLocation": artifact(related.path),
            "region": {"startLine": related.line, "startColumn": related.column},
        }
    else:
        location["message"]["text"] = f"{related.message} ({related.path}, line {related.line})"
    return location


def artifact(path: str) -> dict[str, Any]:
    """A relative URI under SRCROOT when the file is inside the working directory."""
    resolved = Path(os.path.abspath(path))
    try:
        relative = resolved.relative_to(Path.cwd())
    except ValueError:
        return {"uri": resolved.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}
