"""gcc-style text: one `path:line:col: severity: message [rule-id]` line per finding, which
editors' quickfix lists and CI log scrapers already understand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kvmlock.output import display_severity

if TYPE_CHECKING:
    from kvmlock.analysis.findings import Finding

_COLORS = {"error": "\033[1;31m", "warning": "\033[1;35m", "note": "\033[1;36m"}
_BOLD = "\033[1m"
_RESET = "\033[0m"


def render_line(finding: Finding, color: bool = False) -> str:
    severity = display_severity(finding.severity)
    where = f"{finding.path}:{finding.span.line}:{finding.span.column}:"
    message = " ".join(finding.message.split())  # one finding, one line, whatever the message
    if not color:
        return f"{where} {severity}: {message} [{finding.rule}]"
    tint = _COLORS.get(severity, _BOLD)
    return f"{_BOLD}{where}{_RESET} {tint}{severity}:{_RESET} {message} [{finding.rule}]"


def render_text(findings: Iterable[Finding], color: bool = False) -> str:
    return "".join(render_line(finding, color) + "\n" for finding in findings)


def summary_line(findings: list[Finding], files: int, errors: int = 0) -> str:
    checked = f"{files} file{'s' if files != 1 else ''}"
    if findings:
        counts = Counter(display_severity(f.severity) for f in findings)
        parts = [
            _plural(counts[level], level) for level in ("error", "warning", "note") if counts[level]
        ]
        affected = len({f.path for f in findings})
        text = (
            f"kvmlock: {_plural(len(findings), 'finding')} ({', '.join(parts)}) "
            f"in {affected} of {checked}"
        )
    else:
        text = f"kvmlock: no findings in {checked}"
    if errors:
        text += f"; {_plural(errors, 'file')} could not be checked"
    return text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
