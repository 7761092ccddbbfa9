"""The checks: what each lock event means against the rule base.

The walker calls these with the held-lock state at the event. A finding about a lock held on
every path gets the check's severity; one about a lock held on some paths only is reported one
step softer, so a maintainer is never shouted at for a path the code may not take.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from kvmlock.analysis.checks import Check, lower, registry
from kvmlock.analysis.findings import Finding, Related, Span
from kvmlock.analysis.lockapi import LockApi
from kvmlock.analysis.lockexpr import LockRef
from kvmlock.analysis.nesting import Breach, in_notifier, syncing, taking
from kvmlock.analysis.observations import (
    CallSite,
    HeldAt,
    Hold,
    LockEvent,
    Observations,
    Release,
    Site,
)
from kvmlock.analysis.state import VALUE_TRUTH, Held, Origin, State, value_kind
from kvmlock.rules.model import (
    SRCU_CLASS,
    Citation,
    OrderRule,
    RequiresOuterRule,
    Rule,
    RuleBase,
)

# In-file line numbers inside messages are marked while a message is built, so a cached
# finding can be moved when lines are inserted above its function (see Finding.shifted).
_REF = re.compile("\ue000(\\d+)\ue001")


def _at(line: int) -> str:
    return f"\ue000{line}\ue001"


def _unmark(message: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    parts: list[str] = []
    refs: list[tuple[int, int]] = []
    length = 0
    last = 0
    for match in _REF.finditer(message):
        parts.append(message[last : match.start()])
        length += match.start() - last
        parts.append(match[1])
        refs.append((length, length + len(match[1])))
        length += len(match[1])
        last = match.end()
    parts.append(message[last:])
    return "".join(parts), tuple(refs)


@dataclass
class FunctionFacts:
    """What the engine knows about the function being analysed."""

    name: str
    path: str
    arch: str | None
    is_mmu_notifier: bool
    acquires: frozenset[str]  # classes named in __acquires(): returning with them held is the point
    parameters: tuple[str, ...] = ()
    releases: frozenset[tuple[str, str]] = frozenset()  # __releases(): (instance, class)

    def pattern(self, instance: str) -> str:
        """An instance as callers see it: rooted at parameter N, `$N...`; a global lock by
        its name; "" when reached through a local variable (callers cannot name it)."""
        base = instance.split("#", 1)[0]
        match = _ROOT.match(base)
        if match and match[0] in self.parameters:
            return f"${self.parameters.index(match[0])}{base[match.end():]}"
        return base if match and match.end() == len(base) else ""


_ROOT = re.compile(r"[A-Za-z_]\w*")
_LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})


@dataclass
class _Return:
    node: Node
    value: str  # the returned value's token (state.VALUE_KIND), "void" or "lock-helper"
    held: dict[str, Held]
    variable: str | None = None  # `return r;`

    @property
    def kind(self) -> str:
        return value_kind(self.value)

    def value_for(self, held: Held) -> str:
        """The returned value's token on the paths holding `held` (see Held.values)."""
        if self.variable and held.values is not None:
            return dict(held.values).get(self.variable, self.value)
        return self.value

    def kind_for(self, held: Held) -> str:
        return value_kind(self.value_for(held))


@dataclass
class EventChecks:
    rules: RuleBase
    api: LockApi
    facts: FunctionFacts
    source: bytes
    line_col: Callable[[int], tuple[int, int]]
    enabled: frozenset[str]
    findings: list[Finding] = field(default_factory=list)
    returns: list[_Return] = field(default_factory=list)
    observations: Observations = field(default_factory=lambda: Observations(""))
    acquired: set[str] = field(default_factory=set)
    unguarded: list[tuple[Node, RequiresOuterRule, str, int]] = field(default_factory=list)
    caller_releases: dict[str, tuple[str, str]] = field(default_factory=dict)  # pattern →
    # (class, instance as written)
    asserted: set[str] = field(default_factory=set)  # classes asserted, not taken here
    # Classes of caller's locks released in a loop through a local (`unlock_vcpus()`): the
    # callee releases every one the caller holds, however many that is (none included).
    loop_releases: set[str] = field(default_factory=set)
    _seen: set[tuple[str, int, str]] = field(default_factory=set)
    _taken_at: dict[int, Node] = field(default_factory=dict)  # acquisitions by start byte
    # The held set of the last state observed: consecutive calls usually see the same state,
    # and sharing the tuple also makes records smaller to pickle (pickle stores it once).
    _held_state: State | None = None
    _held: tuple[HeldAt, ...] = ()

    def reset(self) -> None:
        self.observations.clear()
        self.findings.clear()
        self.returns.clear()
        self.acquired.clear()
        self.unguarded.clear()
        self.caller_releases.clear()
        self.asserted.clear()
        self.loop_releases.clear()
        self._taken_at.clear()
        self._seen.clear()

    # --- events -------------------------------------------------------------------------

    def acquire(self, state: State, ref: LockRef, kind: str, node: Node, nested: bool) -> None:
        arch = self.facts.arch
        what = self._call_text(node)
        self._observe("acquire", state, ref, kind, node, what, nested)
        self._double_lock(state, ref, kind, node, nested, what)
        inner = (ref.cls, kind)
        for held in state.held.values():
            for breach in taking(self.rules, self.api, arch, (held.cls, held.kind), inner):
                self._emit(
                    breach.check, node, held.must, breach.rule, _acquire_words(breach, what, held),
                    outer=held,
                )
        self.acquired.add(ref.cls)
        self._taken_at[node.start_byte] = node
        for rule in self.rules.required_outers(ref.cls, arch):
            if not state.may_hold(rule.outer):
                self.unguarded.append((node, rule, what, len(self.observations.events) - 1))
        if self.facts.is_mmu_notifier:
            breach = in_notifier(self.rules, arch, ref.cls)
            if breach is not None:
                self._emit(
                    breach.check, node, True, breach.rule,
                    f"{what} in MMU notifier callback {self.facts.name}()",
                )

    def sync(self, state: State, ref: LockRef, node: Node) -> None:
        what = self._call_text(node)
        self._observe("sync", state, ref, "srcu", node, what)
        arch = self.facts.arch
        for held in state.held.values():
            for breach in syncing(self.rules, self.api, arch, (held.cls, held.kind), ref.cls):
                self._emit(
                    breach.check, node, held.must, breach.rule, _sync_words(breach, what, held),
                    outer=held,
                )

    def assertion(self, state: State, ref: LockRef, node: Node) -> None:
        self._observe("assert", state, ref, "", node, self._call_text(node))
        mine = state.find(ref.cls, ref.instance)
        if mine is None or mine.origin is not Origin.ACQUIRED:
            self.asserted.add(ref.cls)

    def call(
        self,
        state: State,
        node: Node,
        callee: str,
        arguments: tuple[str, ...],
        argument_classes: tuple[str | None, ...],
        base_struct: str = "",
    ) -> None:
        self.observations.calls.append(
            CallSite(
                callee,
                self._site(node),
                self._held_at(state),
                arguments,
                argument_classes,
                base_struct,
            )
        )

    def release(self, state: State, ref: LockRef, node: Node, in_loop: bool = False) -> None:
        self._observe("release", state, ref, "", node, self._call_text(node))
        held = state.find(ref.cls, ref.instance)
        if held is None or held.origin is Origin.ENTRY:
            pattern = self.facts.pattern(ref.instance)
            self.caller_releases.setdefault(pattern, (ref.cls, ref.instance))
            if in_loop and not pattern:
                self.loop_releases.add(ref.cls)
        if held is not None:
            return
        if ref.instance in state.released:
            self._emit(
                "unlock-unheld", node, True, None,
                f"{self._call_text(node)} but {ref.cls} is not held on any path here "
                "(it was already released)",
            )

    def returned(self, state: State, node: Node, value: str, variable: str | None) -> None:
        self.returns.append(_Return(node, value, dict(state.held), variable))

    # --- per-function conclusions ---------------------------------------------------------

    def finish(self) -> None:
        self._requires_outer()
        self._lock_leaks()
        obs = self.observations
        obs.function = self.facts.name
        obs.acquires_annotated = tuple(sorted(self.facts.acquires))
        if self.returns:
            common = set.intersection(
                *({h.cls for h in r.held.values() if h.origin is Origin.ACQUIRED and h.must}
                  for r in self.returns)
            )
            obs.held_at_every_return = tuple(sorted(common))
        taken = {e.cls for e in obs.events if e.action == "acquire"}
        obs.released_from_caller = tuple(
            sorted({e.cls for e in obs.events if e.action == "release"} - taken)
        )
        obs.holds = self._holds()
        kept = {self.facts.pattern(key) for r in self.returns for key in r.held}
        obs.releases = tuple(
            Release(pattern, self._effect_class(pattern, cls))
            for pattern, (cls, _) in sorted(self.caller_releases.items())
            if pattern not in kept
        )
        released = {r.cls for r in obs.releases}
        obs.required_everywhere = tuple(
            sorted(
                cls
                for cls in self.asserted
                if cls in released
                or all(any(h.cls == cls and h.must for h in r.held.values()) for r in self.returns)
            )
        )

    def promise_releases(self) -> None:
        """__releases() is the function's word to its callers, also on paths its walk cannot
        follow (a release through an ops table)."""
        obs = self.observations
        known = {r.instance for r in obs.releases}
        promised = [
            Release(pattern, self._effect_class(pattern, cls))
            for instance, cls in sorted(self.facts.releases)
            if (pattern := self.facts.pattern(instance)) not in known
        ]
        if promised:
            obs.releases = (*obs.releases, *promised)

    def released_everywhere(self, instances: list[str]) -> set[str]:
        """Of the caller's locks this walk started holding, those no return still holds."""
        return {
            instance
            for instance in instances
            if not any(
                key == instance or held.base == instance
                for ret in self.returns
                for key, held in ret.held.items()
            )
        }

    def _effect_class(self, pattern: str, cls: str) -> str:
        """A lock that is itself parameter N has no class of its own here: `$N`."""
        return pattern if pattern.startswith("$") and pattern[1:].isdigit() else cls

    def _holds(self) -> tuple[Hold, ...]:
        """The locks taken here and held at the returns: at all of them, or exactly at those
        returning 0 (or exactly at those returning non-zero)."""
        first: dict[str, Held] = {}
        for ret in self.returns:
            for key, held in ret.held.items():
                if held.origin is Origin.ACQUIRED:
                    first.setdefault(key, held)
        holds = []
        for key, lock in first.items():
            when = self._when_held(key)
            if when is not None:
                pattern = self.facts.pattern(lock.instance)
                cls = self._effect_class(pattern, lock.cls)
                hold = Hold(pattern, cls, lock.kind, when)
                # Two locks reached through locals (two vCPUs' mutexes) are one to callers:
                # they cannot name either, and taking "one of the class" twice at the call
                # would be a double lock there.
                if hold not in holds:
                    holds.append(hold)
        return tuple(holds)

    def _when_held(self, key: str) -> str | None:
        holding: set[bool] = set()
        other: set[bool] = set()
        for ret in self.returns:
            held = ret.held.get(key)
            if held is None or held.origin is not Origin.ACQUIRED:
                truth = VALUE_TRUTH.get(ret.value)
                if truth is None:
                    return None
                other.add(truth)
                continue
            if held.must:
                truth = VALUE_TRUTH.get(ret.value)
                holding.add(truth)  # type: ignore[arg-type]
                continue
            # Held on some of the paths joined here: the return variable's value on those
            # (a `goto out` with `r = 0` holding it, `r = -E...` not).
            token = ret.value_for(held)
            if ret.value != "unknown" or token == ret.value:
                return None
            truth = VALUE_TRUTH.get(token)
            if truth is None:
                return None
            holding.add(truth)
            other.add(not truth)
        if not other:
            return "always"
        if None in holding or len(holding) != 1 or len(other) > 1 or holding == other:
            return None
        return "nonzero" if holding == {True} else "zero"

    def _requires_outer(self) -> None:
        """A lock taken without its outer lock is reported when this function manages the
        outer lock itself; otherwise its callers may hold it (interprocedural territory)."""
        passed_on = []
        for node, rule, what, event in self.unguarded:
            if rule.outer in self.acquired:
                self._emit(
                    "requires-outer", node, True, rule,
                    f"{what} without holding {rule.outer}, which this function takes elsewhere",
                )
            else:
                passed_on.append((rule.outer, event))
        self.observations.requires_outer = tuple(passed_on)

    def _lock_leaks(self) -> None:
        """lock-leak, following smatch: quiet unless a failure return or disagreeing
        returns of the same kind show the lock was meant to be dropped."""
        classes: dict[str, Held] = {}
        for ret in self.returns:
            for held in ret.held.values():
                if held.origin is Origin.ACQUIRED and held.cls not in self.facts.acquires:
                    classes.setdefault(held.cls, held)
        for cls, first in classes.items():
            holding = [r for r in self.returns if _holds(r, cls)]
            if all(r.kind == "lock-helper" for r in holding):
                continue
            if len(holding) == len(self.returns) and self._held_throughout(holding, cls):
                # The same lock held at every return, failures included (a seq_file .start()
                # takes the lock its .stop() drops): the function's contract, which its
                # callers see as its effect.
                continue
            releasing = [r for r in self.returns if not _holds(r, cls)]
            for ret in holding:
                held = next(h for h in ret.held.values() if h.cls == cls)
                line = self.line_col(ret.node.start_byte)[0]
                if ret.kind_for(held) == "fail":
                    reason = "on a failure path"
                else:
                    peers = [r for r in releasing if r.kind == ret.kind]
                    if not peers:
                        continue
                    other = self.line_col(peers[0].node.start_byte)[0]
                    reason = f"while the return at line {_at(other)} releases it"
                self._emit(
                    "lock-leak", ret.node, held.must, None,
                    f"return with {cls} held (taken at line {_at(held.line)}) {reason}"
                    if line != held.line
                    else f"return with {cls} held {reason}",
                    outer=first,
                )

    def _held_throughout(self, returns: list[_Return], cls: str) -> bool:
        """Every return holds one and the same instance of `cls` on every path, taken
        outside any loop (a leak in a loop leaves one behind per iteration)."""
        keys = {key for r in returns for key, h in r.held.items() if h.cls == cls}
        if len(keys) != 1:
            return False
        (key,) = keys
        if not all(r.held[key].must for r in returns):
            return False
        node = self._taken_at.get(returns[0].held[key].byte)
        while node is not None and node.type != "function_definition":
            if node.type in _LOOPS:
                return False
            node = node.parent
        return True

    # --- helpers --------------------------------------------------------------------------

    def _double_lock(
        self, state: State, ref: LockRef, kind: str, node: Node, nested: bool, what: str
    ) -> None:
        if nested or self.api.kind(kind).shared:
            return
        held = state.held.get(ref.instance)
        if held is None or self.api.kind(held.kind).shared:
            return
        self._emit(
            "double-lock", node, held.must, None,
            f"{what} while {ref.instance} is already held (line {_at(held.line)})",
            outer=held,
        )

    def _observe(
        self,
        action: str,
        state: State,
        ref: LockRef,
        kind: str,
        node: Node,
        text: str,
        nested: bool = False,
    ) -> None:
        self.observations.events.append(
            LockEvent(
                action,
                ref.cls,
                kind,
                self._site(node),
                self._held_at(state),
                text,
                self.facts.pattern(ref.instance),
                nested,
            )
        )

    def _held_at(self, state: State) -> tuple[HeldAt, ...]:
        if state is not self._held_state:
            self._held_state = state
            self._held = tuple(
                HeldAt(h.cls, h.kind, h.must, h.line, h.origin.value, h.instance)
                for h in state.held.values()
            )
        return self._held

    def _site(self, node: Node) -> Site:
        line, column = self.line_col(node.start_byte)
        return Site(node.start_byte, node.end_byte, line, column)

    def _call_text(self, node: Node) -> str:
        raw = self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        text = " ".join(raw.split())
        return text if len(text) <= 72 else text[:69] + "..."

    def _emit(
        self,
        check_id: str,
        node: Node,
        must: bool,
        rule: Rule | None,
        message: str,
        *,
        outer: Held | None = None,
    ) -> None:
        if check_id not in self.enabled:
            return
        key = (check_id, node.start_byte, message)
        if key in self._seen:
            return
        self._seen.add(key)
        check: Check = registry()[check_id]
        severity = check.severity if must else lower(check.severity)
        if not must:
            message += " (on some paths)"
        citation: Citation | None = rule.citation if rule is not None else None
        if rule is not None and citation is not None:
            message += f" — {citation.short()}: {rule.statement()}"
        related: list[Related] = []
        if outer is not None and outer.byte != node.start_byte:
            line, col = self.line_col(outer.byte)
            related.append(Related(f"{outer.cls} taken here", self.facts.path, line, col))
        if citation is not None:
            related.append(
                Related(f"rule: {rule.statement()}", citation.document, citation.line)  # type: ignore[union-attr]
            )
        message, line_refs = _unmark(message)
        start_line, start_col = self.line_col(node.start_byte)
        end_line, end_col = self.line_col(node.end_byte)
        self.findings.append(
            Finding(
                path=self.facts.path,
                span=Span(node.start_byte, node.end_byte, start_line, start_col, end_line, end_col),
                rule=check_id,
                severity=severity,
                message=message,
                citation=citation,
                related=tuple(related),
                function=self.facts.name,
                line_refs=line_refs,
            )
        )


def _holds(ret: _Return, cls: str) -> bool:
    return any(h.cls == cls and h.origin is Origin.ACQUIRED for h in ret.held.values())


def _acquire_words(breach: Breach, what: str, held: Held) -> str:
    at = f"(line {_at(held.line)})"
    if breach.reason == "order":
        return f"{what} while holding {held.cls} {at}" + _chain_words(breach.chain)
    if breach.reason == "srcu":
        return f"{what} inside the {SRCU_CLASS} read-side section {at}"
    if breach.reason == "leaf":
        return f"{what} inside {held.cls} {at}, which is a leaf lock"
    return f"{what} may sleep while holding {held.kind.replace('_', ' ')} {held.cls} {at}"


def _sync_words(breach: Breach, what: str, held: Held) -> str:
    at = f"(line {_at(held.line)})"
    if breach.reason == "sync-self":
        return (
            f"{what} inside a {held.cls} read-side section {at}: "
            "it waits for that very section to end"
        )
    if breach.reason == "sync-held":
        return (
            f"{what} while holding {held.cls} {at}, which is taken inside {SRCU_CLASS} "
            "read-side sections"
        )
    return f"{what} sleeps while holding {held.kind.replace('_', ' ')} {held.cls} {at}"


def _chain_words(chain: tuple[OrderRule, ...]) -> str:
    if len(chain) < 2:
        return ""
    steps = " → ".join([chain[0].outer, *(rule.inner for rule in chain)])
    return f" (order {steps})"
