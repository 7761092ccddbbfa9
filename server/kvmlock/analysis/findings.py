"""What the analysis reports. Renderers (text, JSON, SARIF, LSP) only format these."""

from __future__ import annotations

from dataclasses import dataclass, field

from kvmlock.rules.model import Citation


@dataclass(frozen=True, order=True)
class Span:
    """A source range: 0-based byte offsets and 1-based line/column (columns count bytes)."""

    start_byte: int
    end_byte: int
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Related:
    """A secondary location: where the outer lock was taken, the rule's line, a call chain step."""

    message: str
    path: str
    line: int
    column: int = 1


@dataclass(frozen=True)
class Finding:
    path: str
    span: Span
    rule: str  # check id, e.g. "lock-order"
    severity: str  # "error" | "warning" | "info"
    message: str
    citation: Citation | None = None
    related: tuple[Related, ...] = field(default=())
    function: str = ""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.column, self.rule)
