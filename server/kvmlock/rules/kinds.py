"""Stable names for rule kinds, and the "locks" tuple of each kind.

The built-in pack (TOML), the JSON listing and the tests all describe a fact as
(kind, locks, arch); this module is the one place that maps between that flat form and the
model's dataclasses, so the pack and the reader cannot disagree about what a kind means.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import (
    Citation,
    LeafRule,
    LockInfo,
    MmuNotifierRule,
    OrderRule,
    RequiresOuterRule,
    Rule,
    SrcuReadSideRule,
    SyncSrcuForbiddenRule,
    SyncSrcuInsideRule,
)


@dataclass(frozen=True)
class Kind:
    cls: type[Rule]
    arity: int  # how many locks a fact of this kind names
    locks: str  # what the locks list means, for docs and the pack's header


KINDS: dict[str, Kind] = {
    "order": Kind(OrderRule, 2, "[outer, inner]"),
    "requires_outer": Kind(RequiresOuterRule, 2, "[inner, outer]"),
    "srcu_read_side": Kind(SrcuReadSideRule, 1, "[lock], with allowed = true/false"),
    "sync_srcu_inside": Kind(SyncSrcuInsideRule, 1, "[lock]"),
    "sync_srcu_forbidden": Kind(SyncSrcuForbiddenRule, 1, "[lock]"),
    "mmu_notifier": Kind(MmuNotifierRule, 1, "[lock]"),
    "leaf": Kind(LeafRule, 0, "[]"),
    "lock": Kind(LockInfo, 1, "[name]"),
}
_BY_CLASS = {kind.cls: name for name, kind in KINDS.items()}


def kind_of(rule: Rule) -> str:
    return _BY_CLASS.get(type(rule), type(rule).__name__)


def locks_of(rule: Rule) -> tuple[str, ...]:
    if isinstance(rule, OrderRule):
        return (rule.outer, rule.inner)
    if isinstance(rule, RequiresOuterRule):
        return (rule.inner, rule.outer)
    if isinstance(rule, LockInfo):
        return (rule.name,)
    lock = getattr(rule, "lock", None)
    return (lock,) if isinstance(lock, str) else ()


def fact_key(rule: Rule) -> tuple[str, tuple[str, ...], str | None, bool | None]:
    """What a rule says, without where it was said: for comparing two rule sources."""
    allowed = rule.allowed if isinstance(rule, SrcuReadSideRule) else None
    return (kind_of(rule), locks_of(rule), rule.arch, allowed)


def make_rule(
    kind: str, locks: list[str], citation: Citation, arch: str | None, allowed: bool = False
) -> Rule:
    """Build a non-reference rule from its flat form; raises ValueError on a malformed fact."""
    if kind not in KINDS or kind == "lock":
        raise ValueError(f"unknown rule kind {kind!r}")
    cls = KINDS[kind].cls
    if len(locks) != KINDS[kind].arity:
        raise ValueError(f"{kind} takes locks {KINDS[kind].locks}, got {locks!r}")
    if cls is OrderRule:
        return OrderRule(citation=citation, arch=arch, outer=locks[0], inner=locks[1])
    if cls is RequiresOuterRule:
        return RequiresOuterRule(citation=citation, arch=arch, inner=locks[0], outer=locks[1])
    if cls is SrcuReadSideRule:
        return SrcuReadSideRule(citation=citation, arch=arch, lock=locks[0], allowed=allowed)
    if cls is LeafRule:
        return LeafRule(citation=citation, arch=arch)
    return cls(citation=citation, arch=arch, lock=locks[0])  # type: ignore[call-arg]
