"""What the analysis reports. Renderers (text, JSON, SARIF, LSP) only format these."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    # (start, end) of in-file line numbers inside `message`, e.g. "(line 40)".
    line_refs: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.column, self.rule)

    def shifted(self, byte_delta: int, line_delta: int) -> Finding:
        """The same finding after text was inserted or removed above it (not on its lines)."""
        if not byte_delta and not line_delta:
            return self
        span = self.span
        if not line_delta:  # typing within a line: only byte offsets move
            # Constructors, not dataclasses.replace: this runs for every finding below the
            # cursor on every keystroke, and replace() costs three times as much.
            moved_bytes = Span(
                span.start_byte + byte_delta,
                span.end_byte + byte_delta,
                span.line,
                span.column,
                span.end_line,
                span.end_column,
            )
            return Finding(
                self.path, moved_bytes, self.rule, self.severity, self.message,
                self.citation, self.related, self.function, self.line_refs,
            )
        moved = Span(
            span.start_byte + byte_delta,
            span.end_byte + byte_delta,
            span.line + line_delta,
            span.column,
            span.end_line + line_delta,
            span.end_column,
        )
        message = self.message
        refs: list[tuple[int, int]] = []
        growth = 0
        pieces: list[str] = []
        last = 0
        for start, end in self.line_refs:
            number = str(int(message[start:end]) + line_delta)
            pieces += [message[last:start], number]
            refs.append((start + growth, start + growth + len(number)))
            growth += len(number) - (end - start)
            last = end
        pieces.append(message[last:])
        related = tuple(
            replace(r, line=r.line + line_delta) if r.path == self.path else r
            for r in self.related
        )
        return replace(
            self, span=moved, message="".join(pieces), line_refs=tuple(refs), related=related
        )
