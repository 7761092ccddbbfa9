"""The `kvmlock rules` listing: what the checker believes, and where each belief comes from.

Text for people, JSON (plain dicts, lists, strings) for tools. Both show which source is in
use, whether it is the built-in pack, every rule with its citation, the Reference entries,
the sentences the reader could not turn into rules, and any reader problems.
"""

from __future__ import annotations

from typing import Any

from .kinds import kind_of, locks_of
from .model import Citation, LockInfo, Rule, RuleBase, SrcuReadSideRule


def render_json(rb: RuleBase) -> dict[str, Any]:
    rules = [r for r in rb.rules if not isinstance(r, LockInfo)]
    locks = [r for r in rb.rules if isinstance(r, LockInfo)]
    return {
        "source": rb.source,
        "builtin": rb.builtin,
        "rules": [_rule_json(r) for r in rules],
        "locks": [_lock_json(r) for r in locks],
        "unrecognised": [
            {"text": u.text, "citation": _citation_json(u.citation)} for u in rb.unrecognised
        ],
        "problems": list(rb.problems),
    }


def render_text(rb: RuleBase) -> str:
    out = [f"Rules from: {rb.source}"]
    if rb.builtin:
        out.append(
            "  (no locking.rst was given or found above the checked files, so the built-in "
            "pack is in use; check files inside a kernel tree to use that tree's own text)"
        )
    rules = [r for r in rb.rules if not isinstance(r, LockInfo)]
    locks = [r for r in rb.rules if isinstance(r, LockInfo)]
    out += ["", f"Rules ({len(rules)}):"]
    out += [f"  - {_line(r)}" for r in rules] or ["  (none)"]
    out += ["", f"Lock reference ({len(locks)}):"]
    for info in locks:
        out.append(f"  - {info.name}: {info.type or '?'}, arch {info.arch_field or '?'}")
        if info.protects:
            out.append(f"      protects: {info.protects}")
        if info.comment:
            out.append(f"      comment: {info.comment}")
        out.append(f"      [{info.citation.short()}]")
    if not locks:
        out.append("  (none)")
    if rb.unrecognised:
        out += ["", f"Sentences not turned into rules ({len(rb.unrecognised)}):"]
        for item in rb.unrecognised:
            out.append(f"  - line {item.citation.line}: {item.text}")
    if rb.problems:
        out += ["", f"Problems ({len(rb.problems)}):"]
        out += [f"  - {problem}" for problem in rb.problems]
    return "\n".join(out) + "\n"


def _line(rule: Rule) -> str:
    scope = f" (arch {rule.arch} only)" if rule.arch else ""
    return f"[{kind_of(rule)}] {rule.statement()}{scope}  [{rule.citation.short()}]"


def _citation_json(citation: Citation) -> dict[str, Any]:
    return {"document": citation.document, "line": citation.line, "section": citation.section}


def _rule_json(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": kind_of(rule),
        "locks": list(locks_of(rule)),
        "arch": rule.arch,
        "statement": rule.statement(),
        "citation": _citation_json(rule.citation),
    }
    if isinstance(rule, SrcuReadSideRule):
        data["allowed"] = rule.allowed
    return data


def _lock_json(info: LockInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "type": info.type,
        "arch": info.arch_field,
        "protects": info.protects,
        "comment": info.comment,
        "citation": _citation_json(info.citation),
    }
