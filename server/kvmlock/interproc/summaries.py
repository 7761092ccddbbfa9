"""Function summaries: what calling a function does to the caller's locks.

A summary lists the lock classes a function may acquire, directly or through its callees
(with one call chain for each), the classes it requires on entry (lockdep asserts,
`__must_hold`), the caller's locks it may release, whether it may call
synchronize_srcu(&kvm->srcu) and whether it may sleep. A lock named by a parameter
(`void h(struct mutex *m) { mutex_lock(m); }`) is recorded as `$0` and becomes the caller's
argument at each call.

Summaries are computed to a fixpoint over the call graph. Each fact sits on the lattice
absent < uncertain < certain, where uncertain means "through a table call only some of whose
targets do it"; facts only move up, so recursion and call cycles terminate.
"""

from __future__ import annotations

import heapq
import re
import tomllib
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import compress, count
from operator import is_not

from kvmlock.analysis.lockapi import LockApi, lock_api
from kvmlock.analysis.observations import CallEffect, CallSite, HeldAt, instance_at_call
from kvmlock.interproc.binding import CallResolver, Targets
from kvmlock.interproc.records import FileRecord, FunctionKey, FunctionRecord
from kvmlock.rules.model import SRCU_CLASS
from kvmlock.syntax.words import queries_dir

_PARAM = re.compile(r"^\$(\d+)$")
_NAME = re.compile(r"[A-Za-z_]\w*")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")


@cache
def sleeping_calls() -> frozenset[str]:
    data = tomllib.loads((queries_dir() / "sleeping_calls.toml").read_text(encoding="utf-8"))
    return frozenset(data["sleeping"])


class Anchor:
    """The current first line of one function, shared by every step inside it: when an edit
    above moves the function, the index moves the anchor and every chain through the function
    reads its new lines, with no summary recomputed."""

    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line

    def __repr__(self) -> str:
        return f"Anchor({self.line})"


@dataclass(frozen=True)
class Step:
    """One hop of a chain: a call to the next function, or the lock operation at its end."""

    function: str
    path: str
    offset: int  # lines below the function's first line
    column: int
    text: str
    anchor: Anchor = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        return self.anchor.line + self.offset


def step_in(fn: FunctionRecord, anchor: Anchor, line: int, column: int, text: str) -> Step:
    return Step(fn.name, fn.path, line - fn.line, column, text, anchor)


@dataclass(frozen=True)
class Effect:
    cls: str  # lock class, or `$N` for the lock passed as parameter N
    kind: str  # lock kind for acquisitions; "" otherwise
    chain: tuple[Step, ...]
    certain: bool = True  # False: only some targets of a table call on the chain do this


@dataclass
class Summary:
    key: FunctionKey
    acquires: dict[str, Effect] = field(default_factory=dict)
    requires: dict[str, Effect] = field(default_factory=dict)
    drops: dict[str, Effect] = field(default_factory=dict)  # caller's locks it may release
    # Locks it may take by instance (`$N->lock`, a global's name), for recursion through
    # calls: exclusive, not nested (a lockdep subclass says re-taking the class is meant).
    instances: dict[str, Effect] = field(default_factory=dict)
    sync: Effect | None = None  # may call synchronize_srcu(&kvm->srcu)
    sleeps: Effect | None = None
    returns_holding: tuple[str, ...] = ()  # net effect: held at every return (or __acquires)
    releases: tuple[str, ...] = ()  # net effect: caller's locks released and not retaken
    # The same net effects by instance, as the walker applies them at a call (its own walk
    # already applied its callees' ones, so this is never propagated): None when empty.
    effect: CallEffect | None = None

    def is_empty(self) -> bool:
        """Nothing a caller could notice (most leaf helpers): calls to it are skipped."""
        return not (
            self.acquires or self.requires or self.drops or self.sync or self.sleeps
        )  # `instances` and `effect` come with acquires or drops

    def signature(self) -> tuple:
        """What callers depend on; the fixpoint stops when no signature changes."""

        def facts(effects: Mapping[str, Effect]) -> frozenset[tuple[str, bool]]:
            return frozenset((cls, e.certain) for cls, e in effects.items())

        def one(effect: Effect | None) -> bool | None:
            return None if effect is None else effect.certain

        return (
            facts(self.acquires),
            facts(self.requires),
            facts(self.drops),
            facts(self.instances),
            one(self.sync),
            one(self.sleeps),
        )


@dataclass(frozen=True)
class Call:
    """A call site in a function, with what it may reach."""

    site: CallSite
    targets: Targets

    def text(self) -> str:
        text = f"{self.site.callee}({', '.join(self.site.arguments)})"
        return text if len(text) <= 72 else text[:69] + "..."


def held_classes(held: Iterable[HeldAt]) -> set[str]:
    return {h.cls for h in held}


def caller_instance(pattern: str, site: CallSite) -> str | None:
    """A callee's lock instance as the caller writes it at `site` (see instance_at_call)."""
    return instance_at_call(pattern, site.arguments)


def as_pattern(instance: str, fn: FunctionRecord) -> str | None:
    """An instance written in `fn` as its callers see it (see caller_instance)."""
    root = _NAME.match(instance)
    if root is None:
        return None
    if root[0] in fn.parameters:
        return f"${fn.parameters.index(root[0])}{instance[root.end():]}"
    return instance if root.end() == len(instance) else None


def map_class(cls: str, fn: FunctionRecord, site: CallSite) -> str | None:
    """A callee's class as the caller sees it: `$N` becomes the caller's argument N."""
    match = _PARAM.match(cls)
    if not match:
        return cls
    index = int(match[1])
    if index < len(site.argument_classes) and site.argument_classes[index]:
        return site.argument_classes[index]
    if index < len(site.arguments) and _IDENT.match(site.arguments[index]):
        name = site.arguments[index]
        if name in fn.parameters:
            return f"${fn.parameters.index(name)}"
    return None


@dataclass
class Update:
    """What replacing one file's record changed (`SummaryIndex.replace_file`)."""

    functions: set[FunctionKey]  # functions whose record changed (moved ones included)
    summaries: set[FunctionKey]  # functions whose summary changed
    recomputed: int  # summaries recomputed to find that out
    moved: set[FunctionKey] = field(default_factory=set)  # only moved: nothing recomputed
    removed: set[FunctionKey] = field(default_factory=set)
    rebound: bool = False  # functions or tables came or went: calls elsewhere were re-bound
    tables_changed: bool = False


class SummaryIndex:
    """Summaries of every function of a set of file records."""

    def __init__(self, files: Iterable[FileRecord], api: LockApi | None = None) -> None:
        self.records: dict[str, FileRecord] = {record.path: record for record in files}
        self.api = api or lock_api()
        self.resolver = CallResolver(self.files)
        self.functions: dict[FunctionKey, FunctionRecord] = {}
        self.anchors: dict[FunctionKey, Anchor] = {}
        self.by_path: dict[str, list[FunctionKey]] = {}
        for record in self.files:
            self.by_path[record.path] = [fn.key for fn in record.functions]
            for fn in record.functions:
                self.functions[fn.key] = fn
                self.anchors[fn.key] = Anchor(fn.line)
        self.calls: dict[FunctionKey, list[Call]] = {}
        self.callers: dict[FunctionKey, set[FunctionKey]] = defaultdict(set)
        for key, fn in self.functions.items():
            calls = self._bind(fn)
            self.calls[key] = calls
            for call in calls:
                for target in call.targets.keys:
                    self.callers[target].add(key)
        self.direct = {key: self._direct_summary(fn) for key, fn in self.functions.items()}
        self.summaries: dict[FunctionKey, Summary] = {}
        self._taken_by_callees: dict[FunctionKey, set[str]] = {}
        self.recomputed = 0  # summaries computed so far, over the build and every update
        self._with_effect: set[FunctionKey] = set()  # functions whose Summary.effect is set
        self._fixpoint()

    @property
    def files(self) -> list[FileRecord]:
        return list(self.records.values())

    def _bind(self, fn: FunctionRecord) -> list[Call]:
        return [
            Call(site, self.resolver.resolve(fn.path, site.callee, site.base_struct))
            for site in fn.observations.calls
        ]

    # --- one file replaced ----------------------------------------------------------------

    def replace_file(self, record: FileRecord) -> Update | None:
        """Take a new record of a file already indexed, recomputing only the summaries of its
        changed functions and of the callers whose callees' summaries changed, transitively.
        A file not indexed yet is added (as replacing an empty one)."""
        old = self.records.get(record.path)
        if old is None:
            old = FileRecord(record.path, (), ())
        if (
            len(old.functions) != len(record.functions)
            or (old.tables is not record.tables and old.tables != record.tables)
            or (old.variables is not record.variables and old.variables != record.variables)
        ):
            return self._rebind(old, record)
        changed: list[FunctionRecord] = []
        moved: list[FunctionRecord] = []
        # The language server's records: unchanged ones are the same object. Which are not
        # is found without a Python-level step per function (a keystroke asks this).
        olds, news = old.functions, record.functions
        for i in compress(count(), map(is_not, olds, news)):
            before, new = olds[i], news[i]
            if before.name != new.name or before.is_static != new.is_static:
                return self._rebind(old, record)
            if before.origin is not None and before.origin is new.origin:
                moved.append(new)  # the same analysis, lines above it added or removed
            elif before != new:
                changed.append(new)
        self.records[record.path] = record
        for fn in moved:
            self.functions[fn.key] = fn
            self.anchors[fn.key].line = fn.line
            self.calls[fn.key] = self._bind(fn)  # the same targets, at the new lines
        reorder = False
        for fn in changed:
            key = fn.key
            before_targets = {t for call in self.calls[key] for t in call.targets.keys}
            self.functions[key] = fn
            self.calls[key] = calls = self._bind(fn)
            after = {t for call in calls for t in call.targets.keys}
            for target in before_targets - after:
                self.callers[target].discard(key)
            for target in after - before_targets:
                self.callers[target].add(key)
                # Components are kept callees first; a new edge against that order may close
                # a cycle. Dropped edges at worst leave a component coarser than needed, which
                # the fixpoint inside it handles.
                if self.component_of[target] > self.component_of[key]:
                    reorder = True
            self.direct[key] = self._direct_summary(fn)
        if reorder:
            self._order_components()
        start = self.recomputed
        keys = {fn.key for fn in changed}
        summaries = self._propagate(keys)
        moved_keys = {fn.key for fn in moved}
        return Update(keys | moved_keys, summaries, self.recomputed - start, moved_keys)

    def remove_file(self, path: str) -> Update | None:
        old = self.records.get(path)
        return self._rebind(old, FileRecord(path, (), ())) if old is not None else None

    def _rebind(self, old: FileRecord, record: FileRecord) -> Update:
        """Functions added, removed, renamed or made static, or tables or file-scope
        variables changed: calls in any file may now reach other functions. Re-bind the
        calls that can be affected (by a name that came or went, or through a table), then
        recompute from there."""

        def linkage(r: FileRecord) -> Counter[tuple[str, bool]]:
            return Counter((fn.name, fn.is_static) for fn in r.functions)

        before, after = linkage(old), linkage(record)
        names = {name for name, static in before.keys() | after.keys()
                 if before[(name, static)] != after[(name, static)]}
        through_tables = (
            bool(names) or old.tables != record.tables or old.variables != record.variables
        )
        fresh = {fn.key: fn for fn in record.functions}
        removed = {fn.key for fn in old.functions} - fresh.keys()
        if record.functions or record.tables or record.variables:
            self.records[record.path] = record
            self.by_path[record.path] = list(fresh)
        else:  # removed
            self.records.pop(record.path, None)
            self.by_path.pop(record.path, None)
        self.resolver = CallResolver(self.files)
        rebind: set[FunctionKey] = set()
        for key in removed:
            for call in self.calls.pop(key):
                for target in call.targets.keys:
                    self.callers.get(target, set()).discard(key)
            rebind |= self.callers.pop(key, set())
            for table in (self.functions, self.direct, self.summaries, self.anchors):
                table.pop(key, None)  # type: ignore[attr-defined]
            self._with_effect.discard(key)
            self._taken_by_callees.pop(key, None)
        changed: set[FunctionKey] = set()
        for key, fn in fresh.items():
            known = self.functions.get(key)
            if known is fn or (known is not None and known == fn):
                continue
            if known is None:
                self.anchors[key] = Anchor(fn.line)
                self.calls[key] = []
            self.functions[key] = fn
            self.direct[key] = self._direct_summary(fn)
            changed.add(key)
        rebind |= changed
        for key, calls in self.calls.items():
            if key not in rebind and any(
                (c.site.callee in names) if _NAME.fullmatch(c.site.callee) else through_tables
                for c in calls
            ):
                rebind.add(key)
        for key in rebind - removed:
            old_targets = {t for call in self.calls[key] for t in call.targets.keys}
            self.calls[key] = calls = self._bind(self.functions[key])
            new_targets = {t for call in calls for t in call.targets.keys}
            if new_targets != old_targets or key in changed:
                changed.add(key)
                for target in old_targets - new_targets:
                    self.callers[target].discard(key)
                for target in new_targets - old_targets:
                    self.callers[target].add(key)
                self._taken_by_callees.pop(key, None)
        self._order_components()
        start = self.recomputed
        summaries = self._propagate(changed)
        return Update(
            changed,
            summaries,
            self.recomputed - start,
            removed=removed,
            rebound=True,
            tables_changed=old.tables != record.tables,
        )

    def _propagate(self, changed: set[FunctionKey]) -> set[FunctionKey]:
        """Recompute the components of `changed`, then those of callers whose callees'
        summaries changed, callees first (each component once)."""
        pending = sorted({self.component_of[key] for key in changed})
        heapq.heapify(pending)
        done: set[int] = set()
        different: set[FunctionKey] = set()
        while pending:
            position = heapq.heappop(pending)
            if position in done:
                continue
            done.add(position)
            component = self.components[position]
            previous = {key: self.summaries.get(key) for key in component}
            self._solve(component)
            self._note_effects(component)
            for key in component:
                if self.summaries[key] == previous[key]:
                    continue
                different.add(key)
                for caller in self.callers.get(key, ()):
                    at = self.component_of[caller]
                    if at not in done:
                        heapq.heappush(pending, at)
        return different

    # --- direct facts -------------------------------------------------------------------

    def _direct_summary(self, fn: FunctionRecord) -> Summary:
        obs = fn.observations
        summary = Summary(fn.key)
        anchor = self.anchors[fn.key]
        anchor.line = fn.line

        def local(cls: str) -> str:
            return f"${fn.parameters.index(cls)}" if cls in fn.parameters else cls

        retakes: dict[str, Effect] = {}
        dropped = {
            e.cls
            for e in obs.events
            if e.action == "release"
            and not any(h.cls == e.cls and h.origin == "acquired" for h in e.held)
        }
        for event in obs.events:
            step = step_in(fn, anchor, event.site.line, event.site.column, event.text)
            cls = local(event.cls)
            held_here = {h.cls: h for h in event.held}
            if event.action == "acquire":
                summary.acquires.setdefault(cls, Effect(cls, event.kind, (step,)))
                if event.instance and not event.nested and not self.api.kind(event.kind).shared:
                    retakes[event.instance] = Effect(event.cls, event.kind, (step,))
                if self.api.kind(event.kind).sleeps and summary.sleeps is None:
                    summary.sleeps = Effect(cls, event.kind, (step,))
            elif event.action == "assert":
                mine = held_here.get(event.cls)
                # Behind a test or after an early return, it is a requirement on some paths.
                if mine is None or mine.origin != "acquired":
                    certain = event.cls in obs.required_everywhere
                    summary.requires.setdefault(cls, Effect(cls, "", (step,), certain))
            elif event.action == "release":
                mine = held_here.get(event.cls)
                if mine is None or mine.origin == "entry":
                    summary.drops.setdefault(cls, Effect(cls, "", (step,)))
            elif event.action == "sync" and event.cls == SRCU_CLASS:
                summary.sync = summary.sync or Effect(cls, "", (step,))
                summary.sleeps = summary.sleeps or Effect(cls, "", (step,))
        # Taking again a lock of the caller's it dropped first is no recursion.
        for instance, effect in retakes.items():
            if effect.cls not in dropped:
                summary.instances.setdefault(instance, effect)
        for outer, at in obs.requires_outer:
            event = obs.events[at]
            step = step_in(fn, anchor, event.site.line, event.site.column, event.text)
            summary.requires.setdefault(local(outer), Effect(local(outer), "", (step,)))
        for cls in obs.entry_held:
            step = step_in(fn, anchor, fn.line, 1, f"__must_hold({cls})")
            summary.requires[local(cls)] = Effect(local(cls), "", (step,))
        summary.returns_holding = tuple(
            sorted({local(c) for c in (*obs.held_at_every_return, *obs.acquires_annotated)})
        )
        summary.releases = tuple(sorted({local(c) for c in obs.released_from_caller}))
        summary.effect = obs.call_effect()
        return summary

    # --- fixpoint -------------------------------------------------------------------------

    def _fixpoint(self) -> None:
        """Callees before callers (strongly connected components in reverse topological
        order), so most functions are computed once; a component that calls itself is
        iterated until no signature changes."""
        self._order_components()
        for component in self.components:
            self._solve(component)
        self._note_effects(self.summaries)

    def _order_components(self) -> None:
        self.components = self._components()
        self.component_of: dict[FunctionKey, int] = {
            key: position
            for position, component in enumerate(self.components)
            for key in component
        }

    def _solve(self, component: list[FunctionKey]) -> None:
        """The component's summaries from its members' direct facts up to a fixpoint (from
        the bottom, so a fact that lost its cause in an edit does not keep itself alive
        around a cycle)."""
        if len(component) == 1 and component[0] not in self.callers.get(component[0], ()):
            # Most functions: not recursive, callees done, so one computation is the fixpoint.
            key = component[0]
            self._taken_by_callees.pop(key, None)
            self.summaries[key] = self._recompute(key)
            return
        for key in component:
            self.summaries[key] = self._copy(self.direct[key])
            self._taken_by_callees.pop(key, None)
        queue = deque(component)
        queued = set(component)
        members = queued.copy()
        while queue:
            key = queue.popleft()
            queued.discard(key)
            before = self.summaries[key].signature()
            updated = self._recompute(key)
            self.summaries[key] = updated
            if updated.signature() == before:
                continue
            for caller in sorted(self.callers.get(key, ())):
                if caller in members and caller not in queued:
                    queued.add(caller)
                    queue.append(caller)

    def _components(self) -> list[list[FunctionKey]]:
        """Tarjan's algorithm, iteratively (call chains are deeper than Python's stack)."""
        index: dict[FunctionKey, int] = {}
        low: dict[FunctionKey, int] = {}
        on_stack: set[FunctionKey] = set()
        stack: list[FunctionKey] = []
        components: list[list[FunctionKey]] = []
        callees = {
            key: sorted({t for call in calls for t in call.targets.keys})
            for key, calls in self.calls.items()
        }
        for root in sorted(self.functions):
            if root in index:
                continue
            work = [(root, 0)]
            while work:
                node, position = work.pop()
                if position == 0:
                    index[node] = low[node] = len(index)
                    stack.append(node)
                    on_stack.add(node)
                targets = callees[node]
                if position < len(targets):
                    work.append((node, position + 1))
                    nxt = targets[position]
                    if nxt not in index:
                        work.append((nxt, 0))
                    elif nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                    continue
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
        return components

    @staticmethod
    def _copy(summary: Summary) -> Summary:
        return Summary(
            key=summary.key,
            acquires=dict(summary.acquires),
            requires=dict(summary.requires),
            drops=dict(summary.drops),
            instances=dict(summary.instances),
            sync=summary.sync,
            sleeps=summary.sleeps,
            returns_holding=summary.returns_holding,
            releases=summary.releases,
            effect=summary.effect,
        )

    def _recompute(self, key: FunctionKey) -> Summary:
        self.recomputed += 1
        fn = self.functions[key]
        direct = self.direct[key]
        summary = self._copy(direct)
        managed = set(direct.acquires) | self.taken_by_callees(key)
        for call in self.calls[key]:
            if not call.targets.keys:
                if call.site.callee in sleeping_calls() and summary.sleeps is None:
                    summary.sleeps = Effect("", "", (self._step(fn, call),))
                continue
            if all(self.summaries[t].is_empty() for t in call.targets.keys):
                continue
            step = self._step(fn, call)
            held = call.site.held
            held_cls = held_classes(held)
            taken_here = {h.cls for h in held if h.origin == "acquired"}
            _merge(summary.acquires, self.through(fn, call, "acquires"), step)
            requires = {
                cls: e
                for cls, e in self.through(fn, call, "requires").items()
                if cls not in held_cls and cls not in managed
            }
            _merge(summary.requires, requires, step)
            drops = {
                c: e for c, e in self.through(fn, call, "drops").items() if c not in taken_here
            }
            _merge(summary.drops, drops, step)
            _merge(summary.instances, self.instances_through(fn, call), step)
            summary.sync = _better(summary.sync, self.through_one(fn, call, "sync"), step)
            summary.sleeps = _better(summary.sleeps, self.through_one(fn, call, "sleeps"), step)
        return summary

    def call_effects(self, path: str, names: set[str] | None = None) -> dict[str, CallEffect]:
        """What calls by `names` (None: any name) from file `path` do to the caller's locks,
        where every function the name binds to does the same (see Summary.effect)."""
        found: dict[str, CallEffect] = {}
        candidates = self.effect_names()
        for name in candidates if names is None else candidates.intersection(names):
            effects = {self.summaries[key].effect for key in self.resolver.by_name(path, name)}
            if len(effects) == 1:
                effect = effects.pop()
                if effect is not None:
                    found[name] = effect
        return found

    def effect_names(self) -> set[str]:
        """Names of the functions that release their callers' locks or return holding some
        (a few dozen in a kernel tree)."""
        return {key[1] for key in self._with_effect}

    def _note_effects(self, keys: Iterable[FunctionKey]) -> None:
        for key in keys:
            if self.summaries[key].effect is not None:
                self._with_effect.add(key)
            else:
                self._with_effect.discard(key)

    def taken_by_callees(self, key: FunctionKey) -> set[str]:
        found = self._taken_by_callees.get(key)
        if found is None:
            found = self._taken_by_callees[key] = self._callee_lock_helpers(key)
        return found

    def _callee_lock_helpers(self, key: FunctionKey) -> set[str]:
        """Classes some callee returns holding (`pic_lock(s)` is `spin_lock(&s->lock)` plus
        `__acquires`). The walker does not carry them past the call, so a function that
        calls a lock helper is treated as managing that lock itself."""
        fn = self.functions[key]
        taken: set[str] = set()
        for call in self.calls[key]:
            for target in call.targets.keys:
                for cls in self.direct[target].returns_holding:
                    mapped = map_class(cls, fn, call.site)
                    if mapped is not None:
                        taken.add(mapped)
        return taken

    def _step(self, fn: FunctionRecord, call: Call) -> Step:
        site = call.site.site
        return step_in(fn, self.anchors[fn.key], site.line, site.column, call.text())

    def through(self, fn: FunctionRecord, call: Call, what: str) -> dict[str, Effect]:
        """Facts of kind `what` over all targets of a call, in the caller's classes; certain
        only when every target has the fact certainly."""
        per_target: list[dict[str, Effect]] = []
        for target in call.targets.keys:
            found: dict[str, Effect] = getattr(self.summaries[target], what)
            if not any(cls.startswith("$") for cls in found):
                per_target.append(found)  # nothing to map: shared, never modified
                continue
            effects: dict[str, Effect] = {}
            for cls, effect in found.items():
                mapped = map_class(cls, fn, call.site)
                if mapped is not None and mapped not in effects:
                    effects[mapped] = Effect(mapped, effect.kind, effect.chain, effect.certain)
            per_target.append(effects)
        if len(per_target) == 1:
            return per_target[0]
        return _agree(per_target)

    def instances_through(self, fn: FunctionRecord, call: Call) -> dict[str, Effect]:
        """The lock instances a call may take, as `fn`'s callers see them; only those every
        target takes are certain."""
        per_target = []
        for target in call.targets.keys:
            mapped = {}
            for pattern, effect in self.summaries[target].instances.items():
                text = caller_instance(pattern, call.site)
                local = as_pattern(text, fn) if text is not None else None
                if local is not None:
                    mapped.setdefault(local, effect)
            per_target.append(mapped)
        if len(per_target) == 1:
            return per_target[0]
        return _agree(per_target)

    def through_one(self, fn: FunctionRecord, call: Call, what: str) -> Effect | None:
        effects = [getattr(self.summaries[t], what) for t in call.targets.keys]
        present = [e for e in effects if e is not None]
        if not present:
            return None
        certain = len(present) == len(effects) and all(e.certain for e in present)
        best = present[0]
        return Effect(best.cls, best.kind, best.chain, certain)


def _agree(per_target: list[dict[str, Effect]]) -> dict[str, Effect]:
    merged: dict[str, Effect] = {}
    for effects in per_target:
        for cls, effect in effects.items():
            if cls in merged:
                continue
            everywhere = all(
                cls in other and other[cls].certain for other in per_target
            )
            merged[cls] = Effect(cls, effect.kind, effect.chain, everywhere)
    return merged


def _merge(into: dict[str, Effect], found: dict[str, Effect], step: Step) -> None:
    for cls, effect in found.items():
        old = into.get(cls)
        if old is None or (effect.certain and not old.certain) or _applied_at(old, step):
            into[cls] = Effect(effect.cls, effect.kind, (step, *effect.chain), effect.certain)


def _applied_at(old: Effect, step: Step) -> bool:
    """The walker applied the call's effect as the caller's own lock operation (see
    Summary.effect): the callee's chain says more than that one step."""
    first = old.chain[0]
    return len(old.chain) == 1 and (first.offset, first.column) == (step.offset, step.column)


def _better(old: Effect | None, new: Effect | None, step: Step) -> Effect | None:
    if new is None:
        return old
    if old is None or (new.certain and not old.certain):
        return Effect(new.cls, new.kind, (step, *new.chain), new.certain)
    return old
