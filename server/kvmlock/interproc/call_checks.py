"""The per-function checks, applied at call sites to what the callee may do (its summary),
plus requires-held.

At a call, each lock the caller holds meets each lock the callee may take, the callee's
synchronize_srcu() and its sleeping. A table call reaches several functions: a finding that
holds for every target keeps its severity, one that holds for only some is a step softer. A
callee that may release the caller's lock (drop kvm->srcu around a sleep, say) says nothing
about that lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kvmlock.analysis.engine import NOTIFIER_STRUCTS, file_arch
from kvmlock.analysis.findings import Finding
from kvmlock.analysis.nesting import in_notifier, syncing, taking
from kvmlock.analysis.observations import HeldAt
from kvmlock.interproc.records import FunctionKey, FunctionRecord
from kvmlock.interproc.report import chain_related, finding, via
from kvmlock.interproc.summaries import (
    Call,
    Effect,
    Step,
    Summary,
    SummaryIndex,
    caller_instance,
    map_class,
)
from kvmlock.rules.model import SRCU_CLASS, Rule, RuleBase

# locking.rst's leaf rule is a catch-all; a nesting hidden in a callee is more often a lock the
# document does not list yet than a bug, so through calls it is a note.
_SOFTER = frozenset({"leaf-lock"})


@dataclass
class _Hit:
    """One candidate finding at a call, gathered over the call's targets."""

    check_id: str
    outer: HeldAt | None
    rule: Rule | None
    effect: Effect
    wording: Callable[[str], str]  # chain words -> message
    targets: set[FunctionKey] = field(default_factory=set)
    certain: bool = True


@dataclass(frozen=True, eq=False)
class PreparedFinding:
    """A finding at a call, worded when called (its chain's lines can move meanwhile)."""

    fn: FunctionRecord
    call: Call
    hit: _Hit

    @property
    def chain(self) -> tuple[Step, ...]:
        return self.hit.effect.chain

    def __call__(self) -> Finding:
        return _render(self.fn, self.call, self.hit)


class CallChecks:
    def __init__(
        self,
        index: SummaryIndex,
        rules_for: Callable[[str], RuleBase],
        enabled: frozenset[str],
    ) -> None:
        self.index = index
        self.rules_for = rules_for
        self.enabled = enabled
        self.notifiers = self._notifier_callbacks()
        self._kinds_waiting: dict[str, bool] = {}

    def _waits(self, kind: str) -> bool:
        found = self._kinds_waiting.get(kind)
        if found is None:
            found = self._kinds_waiting[kind] = self.index.api.kind(kind).waits
        return found

    def _notifier_callbacks(self) -> set[FunctionKey]:
        keys: set[FunctionKey] = set()
        for record in self.index.files:
            for entry in record.tables:
                if entry.table in NOTIFIER_STRUCTS:
                    keys.update(self.index.resolver.by_name(record.path, entry.function))
        return keys

    def findings(self, paths: set[str] | None = None) -> list[Finding]:
        found: list[Finding] = []
        for key, fn in self.index.functions.items():
            if paths is None or fn.path in paths:
                found.extend(render() for render in self.function_findings(key))
        return found

    def function_findings(self, key: FunctionKey) -> list[PreparedFinding]:
        """The findings at one function's calls, to be rendered: they depend on its record,
        its own and its callees' summaries, so the language server keeps them per function.
        Their messages name lines along the chain, which move without any of that changing,
        so they are worded only when asked for."""
        fn = self.index.functions[key]
        rules = self.rules_for(fn.path)
        found: list[PreparedFinding] = []
        for call in self.index.calls[key]:
            if call.targets.keys:
                found.extend(self._at_call(fn, call, rules))
        return found

    # --- one call -------------------------------------------------------------------------

    def _at_call(
        self, fn: FunctionRecord, call: Call, rules: RuleBase
    ) -> list[PreparedFinding]:
        hits: dict[tuple[str, str, str], _Hit] = {}
        for target in call.targets.keys:
            for hit in self._target_hits(fn, call, target, rules):
                key = (hit.check_id, hit.effect.cls, hit.outer.cls if hit.outer else "")
                seen = hits.setdefault(key, hit)
                seen.targets.add(target)
                seen.certain = seen.certain and hit.effect.certain
        return [
            PreparedFinding(fn, call, hit)
            for hit in hits.values()
            if hit.check_id in self.enabled
        ]

    def _target_hits(
        self, fn: FunctionRecord, call: Call, target: FunctionKey, rules: RuleBase
    ) -> list[_Hit]:
        summary = self.index.summaries[target]
        if summary.is_empty():  # most callees: nothing below could hit
            return []
        arch = file_arch(fn.path)
        api = self.index.api
        text = call.text()

        def mapped(effects: dict[str, Effect]) -> dict[str, Effect]:
            if not any(cls.startswith("$") for cls in effects):
                return effects
            out = {}
            for cls, effect in effects.items():
                caller_cls = map_class(cls, fn, call.site)
                if caller_cls is not None and not caller_cls.startswith("$"):
                    out[caller_cls] = Effect(caller_cls, effect.kind, effect.chain, effect.certain)
            return out

        hits = self._requires_hits(fn, call, summary.requires, mapped, text)
        if not call.site.held and fn.key not in self.notifiers:
            return hits
        hits.extend(self._recursion_hits(call, summary, text))
        acquires = mapped(summary.acquires)
        if summary.effect is not None and summary.effect.holds and call.site.callee.isidentifier():
            # The walker took these at the call (Summary.effect): its checks saw them there.
            held_after = {hold.cls for hold in summary.effect.holds}
            acquires = {cls: e for cls, e in acquires.items() if cls not in held_after}
        drops = set(mapped(summary.drops))
        for outer in call.site.held:
            if outer.cls in drops:
                continue
            for cls, effect in acquires.items():
                if cls == outer.cls:
                    continue
                hits.extend(self._acquire_hits(fn, outer, cls, effect, text, rules, arch))
            if summary.sync is not None:
                hits.extend(self._sync_hits(outer, summary.sync, text, rules, arch))
            if summary.sleeps is not None and api.kind(outer.kind).spins:
                hits.append(
                    _Hit(
                        "sleep-in-atomic", outer, rules.lock_info(outer.cls), summary.sleeps,
                        lambda chain, o=outer: f"{text} may sleep ({chain}) while holding "
                        f"{o.kind.replace('_', ' ')} {o.cls} (line {o.line})",
                    )
                )
        if fn.key in self.notifiers:
            for cls, effect in acquires.items():
                breach = in_notifier(rules, arch, cls)
                if breach is not None:
                    hits.append(
                        _Hit(
                            breach.check, None, breach.rule, effect,
                            lambda chain, c=cls: f"{text} takes {c} ({chain}) in MMU notifier "
                            f"callback {fn.name}()",
                        )
                    )
        return hits

    def _recursion_hits(self, call: Call, summary: Summary, text: str) -> list[_Hit]:
        """The callee takes, again, a lock instance the caller holds on every path: lockdep's
        "possible recursive locking" (a lock the walker took at the call was checked there)."""
        applied = (
            {h.cls for h in summary.effect.holds}
            if summary.effect is not None and call.site.callee.isidentifier()
            else set()
        )
        held = {
            h.instance.split("#", 1)[0]: h
            for h in call.site.held
            if h.must and h.instance and not self.index.api.kind(h.kind).shared
        }
        hits = []
        for pattern, effect in summary.instances.items():
            instance = caller_instance(pattern, call.site)
            outer = held.get(instance) if instance is not None else None
            # Only when every function on a short chain takes it: through a table call some
            # of whose targets do, or down a long chain of calls made for other purposes
            # (a register read that could reload page tables), it is a guess, and this check
            # speaks as an error.
            if outer is None or effect.cls in applied or outer.cls != effect.cls:
                continue
            if not effect.certain or call.targets.through_table or len(effect.chain) > 4:
                continue
            hits.append(
                _Hit(
                    "double-lock", outer, None, effect,
                    lambda words, i=instance, o=outer: f"{text} takes {i} again ({words}) "
                    f"while it is held (line {o.line}): possible recursive locking",
                )
            )
        return hits

    def _acquire_hits(
        self,
        fn: FunctionRecord,
        outer: HeldAt,
        cls: str,
        effect: Effect,
        text: str,
        rules: RuleBase,
        arch: str | None,
    ) -> list[_Hit]:
        hits = []
        for breach in taking(
            rules, self.index.api, arch, (outer.cls, outer.kind), (cls, effect.kind)
        ):
            if breach.reason == "sleep":
                continue  # the callee's `sleeps` fact says it, for locks and other waits alike
            if breach.reason == "leaf" and self._nests_in(fn, outer.cls, rules):
                continue
            hits.append(
                _Hit(
                    breach.check, outer, breach.rule, effect,
                    lambda words, why=breach.reason: _taking_words(why, text, cls, words, outer),
                )
            )
        return hits

    def _nests_in(self, fn: FunctionRecord, leaf: str, rules: RuleBase) -> bool:
        """The function itself takes a documented lock inside `leaf`: leaf-lock already says
        so there, and the same gap in locking.rst need not be reported again per call."""
        documented = rules.documented_locks()
        return any(
            event.action == "acquire"
            and event.cls in documented
            and any(h.cls == leaf for h in event.held)
            for event in fn.observations.events
        )

    def _sync_hits(
        self, outer: HeldAt, sync: Effect, text: str, rules: RuleBase, arch: str | None
    ) -> list[_Hit]:
        what = f"{text} calls synchronize_srcu(&{SRCU_CLASS})"
        hits = []
        for breach in syncing(rules, self.index.api, arch, (outer.cls, outer.kind), SRCU_CLASS):
            if breach.reason == "sleep":
                continue  # the callee's `sleeps` fact says it
            hits.append(
                _Hit(
                    breach.check, outer, breach.rule, sync,
                    lambda words, why=breach.reason: _sync_words(why, what, words, outer),
                )
            )
        return hits

    def _requires_hits(
        self,
        fn: FunctionRecord,
        call: Call,
        requires: dict[str, Effect],
        mapped: Callable[[dict[str, Effect]], dict[str, Effect]],
        text: str,
    ) -> list[_Hit]:
        """requires-held, conservatively: the callee needs a lock the caller does not hold on
        any path here, the caller does not need it on entry, and the caller takes that lock
        itself elsewhere, so its own callers cannot be the ones holding it."""
        if not requires:
            return []
        held = {h.cls for h in call.site.held}
        own = self.index.summaries[fn.key]
        direct = self.index.direct[fn.key]
        helpers = self.index.taken_by_callees(fn.key)
        hits = []
        for cls, effect in mapped(requires).items():
            if cls in held or cls.startswith("$"):
                continue
            if cls in direct.acquires and cls not in own.requires:
                if cls in direct.drops or cls in helpers:
                    # It releases the caller's lock somewhere (so its caller holds it,
                    # unseen by the walker here), or a lock helper took it before this call.
                    continue
                taken = direct.acquires[cls].chain[-1]
                hits.append(
                    _Hit(
                        "requires-held", None, None, effect,
                        lambda words, c=cls, at=taken: f"{text} requires {c} ({words}) but "
                        f"{c} is not held here, and {fn.name}() takes it itself "
                        f"(line {at.line})",
                    )
                )
        return hits


def _taking_words(why: str, text: str, cls: str, words: str, outer: HeldAt) -> str:
    at = f"(line {outer.line})"
    if why == "order":
        return f"{text} takes {cls} ({words}) while holding {outer.cls} {at}"
    if why == "srcu":
        return f"{text} takes {cls} ({words}) inside the {SRCU_CLASS} read-side section {at}"
    return f"{text} takes {cls} ({words}) inside {outer.cls} {at}, which is a leaf lock"


def _sync_words(why: str, what: str, words: str, outer: HeldAt) -> str:
    at = f"(line {outer.line})"
    if why == "sync-self":
        return (
            f"{what} ({words}) inside a {SRCU_CLASS} read-side section {at}: it waits for "
            "that very section to end"
        )
    return (
        f"{what} ({words}) while holding {outer.cls} {at}, which is taken inside "
        f"{SRCU_CLASS} read-side sections"
    )


def _render(fn: FunctionRecord, call: Call, hit: _Hit) -> Finding:
    total = len(call.targets.keys)
    some_targets = len(hit.targets) < total or not hit.certain
    may_held = hit.outer is not None and not hit.outer.must
    message = hit.wording(via(hit.effect.chain))
    if call.targets.through_table:
        message += f" through {call.targets.table}"
        if len(hit.targets) < total:
            message += f" ({len(hit.targets)} of {total} targets)"
    if may_held:
        message += " (on some paths)"
    return finding(
        check_id=hit.check_id,
        path=fn.path,
        function=fn.name,
        site=call.site.site,
        steps_down=int(some_targets) + int(may_held) + int(hit.check_id in _SOFTER),
        message=message,
        rule=hit.rule,
        related=chain_related(hit.effect.chain, _doing(hit)),
        outer=hit.outer,
    )


def _doing(hit: _Hit) -> str:
    last = hit.effect.chain[-1].text
    return last if len(last) <= 60 else last[:57] + "..."
