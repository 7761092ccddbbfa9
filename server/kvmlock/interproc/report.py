"""Findings through calls, in the same shape as the per-function ones: the diagnostic sits on
the call in the caller, and `related` walks the chain down to the lock operation."""

from __future__ import annotations

import itertools
import os

from kvmlock.analysis.checks import lower, registry
from kvmlock.analysis.findings import Finding, Related, Span
from kvmlock.analysis.observations import HeldAt, Site
from kvmlock.interproc.summaries import Step
from kvmlock.rules.model import Rule


def via(chain: tuple[Step, ...]) -> str:
    """`via helper → inner at xen.c:123`."""
    names = " → ".join(step.function for step in chain)
    last = chain[-1]
    return f"via {names} at {os.path.basename(last.path)}:{last.line}"


def chain_related(chain: tuple[Step, ...], what: str) -> list[Related]:
    related = []
    for step, following in itertools.pairwise(chain):
        related.append(
            Related(f"{step.function}() calls {following.function}() here", step.path,
                    step.line, step.column)
        )
    last = chain[-1]
    related.append(Related(f"{last.function}(): {what} here", last.path, last.line, last.column))
    return related


def finding(
    *,
    check_id: str,
    path: str,
    function: str,
    site: Site,
    steps_down: int,
    message: str,
    rule: Rule | None,
    related: list[Related],
    outer: HeldAt | None = None,
) -> Finding:
    """A finding at a call site. `steps_down` lowers the check's severity that many steps:
    one for a lock the caller holds on some paths only, one for a call through a table
    whose targets do not all agree."""
    severity = registry()[check_id].severity
    for _ in range(steps_down):
        severity = lower(severity)
    citation = rule.citation if rule is not None else None
    if rule is not None and citation is not None:
        message += f" — {citation.short()}: {rule.statement()}"
    extra: list[Related] = []
    if outer is not None:
        extra.append(Related(f"{outer.cls} taken here", path, outer.line, 1))
    extra.extend(related)
    if rule is not None and citation is not None:
        extra.append(Related(f"rule: {rule.statement()}", citation.document, citation.line))
    return Finding(
        path=path,
        span=_span(site),
        rule=check_id,
        severity=severity,
        message=message,
        citation=citation,
        related=tuple(extra),
        function=function,
    )


def _span(site: Site) -> Span:
    # Observations keep the start position only; a call that spans lines ends past its first
    # line's end, which editors clamp.
    end_column = site.column + (site.end_byte - site.start_byte)
    return Span(site.start_byte, site.end_byte, site.line, site.column, site.line, end_column)
