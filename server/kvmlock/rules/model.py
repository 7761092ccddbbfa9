"""The rule base: facts read from locking.rst (or the built-in pack), and the questions the
analysis asks of them.

Every fact carries a Citation so that a finding can say which sentence of which document it
enforces. Lock names inside facts are canonical lock classes (see `classes.canonical`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

SRCU_CLASS = "kvm->srcu"

R = TypeVar("R", bound="Rule")
T = TypeVar("T")


@dataclass(frozen=True)
class Citation:
    document: str  # path of the locking.rst read, or the built-in pack's description
    line: int  # 1-based line of the sentence's first line
    section: str  # section title, e.g. "1. Acquisition Orders"

    def short(self) -> str:
        return f'locking.rst line {self.line}, "{self.section}"'


@dataclass(frozen=True)
class Rule:
    """Base of all facts. `arch` is None for rules that apply everywhere ("On x86:" gives "x86")."""

    citation: Citation
    arch: str | None

    def statement(self) -> str:  # our own restatement, used in messages
        raise NotImplementedError

    def applies_to(self, arch: str | None) -> bool:
        return self.arch is None or arch is None or self.arch == arch


@dataclass(frozen=True)
class OrderRule(Rule):
    """`outer` is acquired before (outside) `inner` whenever both are held."""

    outer: str
    inner: str

    def statement(self) -> str:
        return f"{self.outer} is taken outside {self.inner}"


@dataclass(frozen=True)
class SrcuReadSideRule(Rule):
    """Whether `lock` may be acquired inside a kvm->srcu read-side critical section."""

    lock: str
    allowed: bool

    def statement(self) -> str:
        verb = "may" if self.allowed else "must not"
        return f"{self.lock} {verb} be taken inside a {SRCU_CLASS} read-side critical section"


@dataclass(frozen=True)
class SyncSrcuInsideRule(Rule):
    """synchronize_srcu(&kvm->srcu) is called while `lock` is held."""

    lock: str

    def statement(self) -> str:
        return f"synchronize_srcu(&{SRCU_CLASS}) is called inside {self.lock} critical sections"


@dataclass(frozen=True)
class SyncSrcuForbiddenRule(Rule):
    """synchronize_srcu(&kvm->srcu) must not be called while `lock` is held."""

    lock: str

    def statement(self) -> str:
        return f"synchronize_srcu(&{SRCU_CLASS}) must not be called inside {self.lock}"


@dataclass(frozen=True)
class RequiresOuterRule(Rule):
    """`inner` may only be acquired while `outer` is already held."""

    inner: str
    outer: str

    def statement(self) -> str:
        return f"{self.inner} is only taken while already holding {self.outer}"


@dataclass(frozen=True)
class MmuNotifierRule(Rule):
    """MMU notifier callbacks must not acquire `lock`."""

    lock: str

    def statement(self) -> str:
        return f"MMU notifier callbacks must not take {self.lock}"


@dataclass(frozen=True)
class LeafRule(Rule):
    """Documented locks that appear in no order rule are leaves: nothing is taken inside them."""

    def statement(self) -> str:
        return "every lock not named in an order rule is a leaf: no other lock is taken inside it"


@dataclass(frozen=True)
class LockInfo(Rule):
    """A Reference-section entry."""

    name: str
    type: str = ""
    arch_field: str = ""
    protects: str = ""
    comment: str = ""

    def statement(self) -> str:
        return f"{self.name}: {self.type or 'type not stated'}"


@dataclass(frozen=True)
class Unrecognised:
    """A rule-like sentence the reader could not turn into facts; listed, never dropped."""

    text: str
    citation: Citation


@dataclass
class RuleBase:
    source: str  # path of the locking.rst, or "built-in pack (...)"
    builtin: bool
    rules: list[Rule] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # reader-level trouble (garbled file, ...)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._locks: dict[str, LockInfo] = {}
        self._order: dict[tuple[str, str], list[OrderRule]] = {}
        for rule in self.rules:
            if isinstance(rule, LockInfo):
                self._locks.setdefault(rule.name, rule)
        # Answers to the questions below, which scan every rule: the analysis asks them at
        # each lock it meets, always about the same few classes.
        self._answers: dict[tuple, Any] = {}

    def _answer(self, key: tuple, compute: Callable[[], T]) -> T:
        try:
            return self._answers[key]
        except KeyError:
            found = self._answers[key] = compute()
            return found

    def add(self, rules: Iterable[Rule]) -> None:
        self.rules.extend(rules)
        self._reindex()

    def of_type(self, kind: type[R], arch: str | None = None) -> Iterator[R]:
        for rule in self.rules:
            if isinstance(rule, kind) and rule.applies_to(arch):
                yield rule

    # --- questions the checks ask -------------------------------------------------------

    def lock_info(self, lock: str) -> LockInfo | None:
        return self._locks.get(lock)

    def documented_locks(self) -> frozenset[str]:
        return self._answer(("documented",), self._documented_locks)

    def _documented_locks(self) -> frozenset[str]:
        names = set(self._locks)
        for rule in self.rules:
            for attr in ("outer", "inner", "lock"):
                value = getattr(rule, attr, None)
                if isinstance(value, str):
                    names.add(value)
        return frozenset(names)

    def order_chain(
        self, outer: str, inner: str, arch: str | None = None
    ) -> tuple[OrderRule, ...] | None:
        """The order rules proving `outer` is taken outside `inner` (transitively), or None."""
        return self._answer(
            ("order", outer, inner, arch), lambda: self._search_order(outer, inner, arch)
        )

    def _search_order(
        self, outer: str, inner: str, arch: str | None
    ) -> tuple[OrderRule, ...] | None:
        edges: dict[str, list[OrderRule]] = {}
        for rule in self.of_type(OrderRule, arch):
            edges.setdefault(rule.outer, []).append(rule)
        frontier: list[tuple[str, tuple[OrderRule, ...]]] = [(outer, ())]
        seen = {outer}
        while frontier:
            node, path = frontier.pop(0)
            for rule in edges.get(node, []):
                chain = (*path, rule)
                if rule.inner == inner:
                    return chain
                if rule.inner not in seen:
                    seen.add(rule.inner)
                    frontier.append((rule.inner, chain))
        return None

    def srcu_forbidden(self, lock: str, arch: str | None = None) -> Rule | None:
        """The rule saying `lock` cannot be taken inside a kvm->srcu read-side section."""
        return self._answer(("srcu", lock, arch), lambda: self._srcu_forbidden(lock, arch))

    def _srcu_forbidden(self, lock: str, arch: str | None) -> Rule | None:
        for rule in self.of_type(SrcuReadSideRule, arch):
            if rule.lock == lock:
                return None if rule.allowed else rule
        for sync in self.of_type(SyncSrcuInsideRule, arch):
            if sync.lock == lock:
                return sync
        return None

    def sync_srcu_forbidden(self, lock: str, arch: str | None = None) -> Rule | None:
        """The rule saying synchronize_srcu(&kvm->srcu) must not run while `lock` is held."""
        return self._answer(("sync", lock, arch), lambda: self._sync_srcu_forbidden(lock, arch))

    def _sync_srcu_forbidden(self, lock: str, arch: str | None) -> Rule | None:
        for rule in self.of_type(SyncSrcuForbiddenRule, arch):
            if rule.lock == lock:
                return rule
        for order in self.of_type(OrderRule, arch):
            if order.outer == SRCU_CLASS and order.inner == lock:
                return order
        for srcu in self.of_type(SrcuReadSideRule, arch):
            if srcu.lock == lock and srcu.allowed:
                return srcu
        return None

    def required_outers(self, lock: str, arch: str | None = None) -> list[RequiresOuterRule]:
        found = self._answer(
            ("outers", lock, arch),
            lambda: tuple(r for r in self.of_type(RequiresOuterRule, arch) if r.inner == lock),
        )
        return list(found)

    def mmu_notifier_forbidden(self, lock: str, arch: str | None = None) -> MmuNotifierRule | None:
        return self._answer(
            ("notifier", lock, arch),
            lambda: next((r for r in self.of_type(MmuNotifierRule, arch) if r.lock == lock), None),
        )

    def leaf_rule(self, lock: str, arch: str | None = None) -> LeafRule | None:
        """The leaf rule when `lock` is documented and named in no order rule."""
        return self._answer(("leaf", lock, arch), lambda: self._leaf_rule(lock, arch))

    def _leaf_rule(self, lock: str, arch: str | None) -> LeafRule | None:
        leaf = next(self.of_type(LeafRule, arch), None)
        if leaf is None or lock not in self.documented_locks():
            return None
        for rule in self.rules:
            if isinstance(rule, OrderRule | RequiresOuterRule) and lock in (rule.outer, rule.inner):
                return None
            if isinstance(rule, SrcuReadSideRule | SyncSrcuInsideRule) and lock in (
                rule.lock,
                SRCU_CLASS,
            ):
                return None
        return leaf
