"""What the rules say about one nesting: a lock taken, or synchronize_srcu() called, while
another lock is held. Written once, used at every place a nesting is seen: the walker's
events inside a function (analysis/event_checks.py) and a callee's locks replayed at the held
set of each call (interproc/call_checks.py). Each site words the breach its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvmlock.analysis.lockapi import LockApi
from kvmlock.rules.model import SRCU_CLASS, OrderRule, Rule, RuleBase


@dataclass(frozen=True)
class Breach:
    check: str  # the check id
    rule: Rule | None
    reason: str  # "order" | "srcu" | "leaf" | "sleep" | "sync-self" | "sync-held"
    chain: tuple[OrderRule, ...] = ()  # "order": the documented order it breaks, outermost first


def taking(
    rules: RuleBase,
    api: LockApi,
    arch: str | None,
    outer: tuple[str, str],
    inner: tuple[str, str],
) -> list[Breach]:
    """Lock `inner` (class, kind) taken while `outer` (class, kind) is held."""
    outer_cls, outer_kind = outer
    inner_cls, inner_kind = inner
    if outer_cls == inner_cls:
        return []  # the same class again: double-lock's business
    found = []
    waits = api.kind(inner_kind).waits
    chain = rules.order_chain(inner_cls, outer_cls, arch) if waits else None
    if chain:
        found.append(Breach("lock-order", chain[0], "order", chain))
    if outer_cls == SRCU_CLASS:
        rule = rules.srcu_forbidden(inner_cls, arch)
        if rule is not None:
            found.append(Breach("srcu-order", rule, "srcu"))
    leaf = rules.leaf_rule(outer_cls, arch)
    # A read side that never waits (SRCU, RCU) cannot deadlock inside a leaf lock:
    # synchronize_srcu() can, and sync-srcu checks that.
    if leaf is not None and waits and inner_cls in rules.documented_locks():
        found.append(Breach("leaf-lock", leaf, "leaf"))
    if api.kind(inner_kind).sleeps and api.kind(outer_kind).spins:
        found.append(Breach("sleep-in-atomic", rules.lock_info(outer_cls), "sleep"))
    return found


def syncing(
    rules: RuleBase, api: LockApi, arch: str | None, outer: tuple[str, str], srcu: str
) -> list[Breach]:
    """synchronize_srcu(`srcu`) called while `outer` (class, kind) is held."""
    outer_cls, outer_kind = outer
    if outer_cls == srcu:
        return [Breach("sync-srcu", None, "sync-self")]
    found = []
    if srcu == SRCU_CLASS:
        rule = rules.sync_srcu_forbidden(outer_cls, arch)
        if rule is not None:
            found.append(Breach("sync-srcu", rule, "sync-held"))
    if api.kind(outer_kind).spins:
        found.append(Breach("sleep-in-atomic", rules.lock_info(outer_cls), "sleep"))
    return found


def in_notifier(rules: RuleBase, arch: str | None, cls: str) -> Breach | None:
    """Lock `cls` taken in an MMU notifier callback."""
    rule = rules.mmu_notifier_forbidden(cls, arch)
    return Breach("mmu-notifier", rule, "notifier") if rule is not None else None
