"""Markdown explanations for hovers: a lock, a function's locking summary, a finding's rule.

Only formats what the analysis and the rule base already know; nothing here re-derives it.
"""

from __future__ import annotations

from pathlib import Path

from kvmlock.analysis.checks import registry
from kvmlock.analysis.engine import FunctionResult
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.observations import HeldAt
from kvmlock.rules.model import (
    Citation,
    MmuNotifierRule,
    OrderRule,
    RequiresOuterRule,
    Rule,
    RuleBase,
    SrcuReadSideRule,
    SyncSrcuForbiddenRule,
    SyncSrcuInsideRule,
)


def rule_link(citation: Citation) -> str:
    path = Path(citation.document)
    if path.is_absolute() and path.is_file():
        return f"[locking.rst line {citation.line}]({path.as_uri()}#L{citation.line})"
    return f"locking.rst line {citation.line} (built-in pack)"


def lock_markdown(cls: str, rules: RuleBase, held: tuple[HeldAt, ...] | None) -> str:
    lines = [f"**{cls}**"]
    info = rules.lock_info(cls)
    if info is not None:
        lines.append("")
        lines.append(f"- Type: {info.type or '—'}")
        lines.append(f"- Arch: {info.arch_field or '—'}")
        if info.protects:
            lines.append(f"- Protects: {info.protects}")
        if info.comment:
            lines.append(f"- Comment: {info.comment}")
        lines.append(f"- {rule_link(info.citation)}")
    elif cls not in rules.documented_locks():
        lines.append("")
        lines.append("_Not documented in locking.rst; tracked for balance checks only._")
    if held is not None:
        lines.append("")
        if held:
            taken = ", ".join(
                f"{h.cls} (line {h.line}{'' if h.must else ', some paths'})" for h in held
            )
            lines.append(f"Held here: {taken}")
        else:
            lines.append("Held here: nothing")
    involving = [r for r in rules.rules if _mentions(r, cls)]
    if involving:
        lines.append("")
        lines.append("Rules:")
        lines.extend(f"- {r.statement()} — {rule_link(r.citation)}" for r in involving)
    return "\n".join(lines)


def function_markdown(result: FunctionResult) -> str:
    obs = result.observations
    takes = sorted({e.cls for e in obs.events if e.action == "acquire"})
    requires = sorted(set(obs.entry_held) | {e.cls for e in obs.events if e.action == "assert"})
    leaves = sorted(set(obs.held_at_every_return) | set(obs.acquires_annotated))
    calls = sorted({c.callee for c in obs.calls})
    lines = [f"**{result.name}()** — locking summary"]
    lines.append(f"- takes: {', '.join(takes) or 'nothing'}")
    lines.append(f"- requires on entry: {', '.join(requires) or 'nothing'}")
    lines.append(f"- returns holding: {', '.join(leaves) or 'nothing'}")
    if calls:
        lines.append(
            f"- calls {len(calls)} other function(s); their locking is not followed yet "
            "(assumed neutral)"
        )
    return "\n".join(lines)


def finding_markdown(finding: Finding) -> str:
    check = registry().get(finding.rule)
    title = check.title if check is not None else finding.rule
    lines = [f"**{finding.rule}** — {title}", "", finding.message]
    if check is not None and check.what:
        lines += ["", check.what.strip()]
    if finding.citation is not None:
        lines += ["", rule_link(finding.citation)]
    return "\n".join(lines)


def _mentions(rule: Rule, cls: str) -> bool:
    if isinstance(rule, OrderRule):
        return cls in (rule.outer, rule.inner)
    if isinstance(rule, RequiresOuterRule):
        return cls in (rule.outer, rule.inner)
    if isinstance(
        rule, SrcuReadSideRule | SyncSrcuInsideRule | SyncSrcuForbiddenRule | MmuNotifierRule
    ):
        return rule.lock == cls
    return False
