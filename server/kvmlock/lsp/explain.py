"""Markdown explanations for hovers: a lock, a function's locking summary, a finding's rule.

Only formats what the analysis and the rule base already know; nothing here re-derives it.
"""

from __future__ import annotations

from pathlib import Path

from kvmlock.analysis.checks import registry
from kvmlock.analysis.engine import FunctionResult
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.observations import HeldAt
from kvmlock.interproc.report import via
from kvmlock.interproc.summaries import Effect, Summary
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
            f"- calls {len(calls)} other function(s); their locking is not followed "
            "(interprocedural analysis off or still indexing): assumed neutral"
        )
    return "\n".join(lines)


def summary_markdown(name: str, summary: Summary, unknown: list[str]) -> str:
    """A function's interprocedural summary: what calling it does, through its callees.
    `unknown`: the callees nothing in the index stands for (assumed neutral)."""

    def effect(cls: str, e: Effect, own: str) -> str:
        text = cls or own
        if len(e.chain) > 1:
            text += f" ({via(e.chain[1:])})"
        if not e.certain:
            text += ", through some targets of a table call"
        return text

    def effects(found: dict[str, Effect]) -> str:
        return ", ".join(effect(cls, found[cls], cls) for cls in sorted(found)) or "nothing"

    def maybe(e: Effect | None) -> str:
        if e is None:
            return "no"
        return "yes" + (f" ({via(e.chain[1:])})" if len(e.chain) > 1 else "") + (
            ", through some targets of a table call" if not e.certain else ""
        )

    lines = [f"**{name}()** — locking summary, through its calls"]
    lines.append(f"- takes: {effects(summary.acquires)}")
    lines.append(f"- requires on entry: {effects(summary.requires)}")
    lines.append(f"- returns holding: {', '.join(summary.returns_holding) or 'nothing'}")
    if summary.drops:
        lines.append(f"- may release the caller's: {effects(summary.drops)}")
    elif summary.releases:
        lines.append(f"- releases the caller's: {', '.join(summary.releases)}")
    lines.append(f"- may sleep: {maybe(summary.sleeps)}")
    lines.append(f"- may call synchronize_srcu(&kvm->srcu): {maybe(summary.sync)}")
    if unknown:
        shown = ", ".join(f"`{c}`" for c in unknown[:6]) + (", ..." if len(unknown) > 6 else "")
        lines.append(
            f"- {len(unknown)} callee(s) not in the workspace index, assumed neutral: {shown}"
        )
    lines.append("")
    lines.append("_`$N`: the lock passed as argument N._" if _has_parameter(summary) else "")
    return "\n".join(lines).rstrip()


def _has_parameter(summary: Summary) -> bool:
    return any(c.startswith("$") for c in (*summary.acquires, *summary.requires, *summary.drops))


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
