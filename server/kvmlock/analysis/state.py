"""The held-lock state the dataflow carries along each path, and how paths merge.

A state maps a lock *instance* (the expression as written, e.g. `vcpu->mutex`) to what is known
about it; the *class* (`vcpu->mutex`, `kvm->lock`) is what the rules talk about. `must` is true
when every path reaching the point holds the lock; a lock held on some paths only is kept with
must=False so that checks can stay quiet (or speak softly) about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

# What a variable or a return is known to hold, as a token: "zero" (0), "null" (NULL, false),
# "err" (-EINVAL, ERR_PTR()), "one" (true, a positive number), "unknown"; plus, for a return,
# "void" and "lock-helper" (returns a trylock's result).
VALUE_KIND = {"zero": "ok", "one": "ok", "null": "fail", "err": "fail"}
VALUE_TRUTH = {"zero": False, "null": False, "err": True, "one": True}


# What a path is known to satisfy: (test, truth). A test is the text of a condition on the
# function's own variables — `locked`, `n>KVM_MAX_VCPUS` — or `name==K` for a constant K other
# than 0 (a test against 0 is the variable's own truth). `locked = true;` gives ("locked", True)
# and ("locked==1", True); `if (prefetch) return;` gives ("prefetch", False) after it.
Fact = tuple[str, bool]
NO_FACTS: frozenset[Fact] = frozenset()
_EQUALITY = re.compile(r"([A-Za-z_]\w*)==(-?\d+)")


def value_kind(token: str) -> str:
    """A value token as the kind of a return: "ok", "fail", or the token itself."""
    return VALUE_KIND.get(token, token)


class Origin(Enum):
    ACQUIRED = "acquired"  # taken in this function
    ENTRY = "entry"  # held by the caller (lockdep assert, __must_hold, unlocked first)
    GUARD = "guard"  # guard()/scoped_guard(): released by the compiler at scope end


@dataclass(frozen=True)
class Held:
    cls: str
    instance: str
    kind: str
    line: int
    byte: int
    must: bool
    origin: Origin
    cond: str | None = None  # `if (c) lock(l);`: held exactly when c is true
    scope: tuple[int, int] | None = None  # guard scope (byte range) it is released at the end of
    depth: int = 1  # re-acquisitions of the same instance (nested, recursive read side)
    # Return-value facts on the paths that hold it, once merged with paths that do not:
    # `r = -EINVAL; goto out;` holding it, `r = 0` releasing it, joined at `out:`.
    values: tuple[tuple[str, str], ...] | None = None
    # Facts (see Fact) true on every path that holds it, beyond the state's own (which hold on
    # every path): `if (!locked) { locked = true; spin_lock(l); }` joined with the path that
    # skipped it leaves ("locked", True) here, so a test of `locked` false drops the lock.
    facts: frozenset[Fact] = NO_FACTS
    # Of those, the ones that also imply it is held (it is held exactly when they are true):
    # the test true makes it held on every path. Kept for locks held on some paths only.
    iff: frozenset[Fact] = NO_FACTS

    @property
    def base(self) -> str:
        """The instance as written, without the loop marker `#<loop>` it may carry."""
        return self.instance.split("#", 1)[0]


@dataclass(frozen=True)
class State:
    # The methods below build States with the constructor, fields in this order: they run
    # for every assignment and lock call, where dataclasses.replace() was a tenth of the time.
    held: dict[str, Held]
    released: frozenset[str]  # instances released earlier on some path into here
    borrowed: frozenset[str]  # instances the caller held: released here before any acquire
    values: dict[str, str]  # variable → value token (VALUE_KIND): simple return-value tracking
    # variable → (instances, "try"|"cond") whose being held it tells: held when it is
    # non-zero ("try") or zero ("cond")
    results: dict[str, tuple[tuple[str, ...], str]]
    facts: frozenset[Fact] = NO_FACTS  # true on every path into here (see Fact)

    @staticmethod
    def empty() -> State:
        return State(
            held={}, released=frozenset(), borrowed=frozenset(), values={}, results={}
        )

    def holding(self, held: Held) -> State:
        new = dict(self.held)
        new[held.instance] = held
        return _state(new, self.released, self.borrowed, self.values, self.results, self.facts)

    def without(self, instance: str) -> State:
        new = dict(self.held)
        lock = new.pop(instance, None)
        released = self.released | {lock.base} if lock else self.released
        return _state(new, released, self.borrowed, self.values, self.results, self.facts)

    def find(self, cls: str, instance: str) -> Held | None:
        """The held lock an unlock of `instance` (of class `cls`) refers to."""
        if instance in self.held:
            return self.held[instance]
        same_base = next((h for h in self.held.values() if h.base == instance), None)
        return same_base or next((h for h in self.held.values() if h.cls == cls), None)

    def must_hold(self, cls: str) -> bool:
        return any(h.cls == cls and h.must for h in self.held.values())

    def may_hold(self, cls: str) -> bool:
        return any(h.cls == cls for h in self.held.values())

    def with_value(self, name: str, value: str | None) -> State:
        values = dict(self.values)
        results = self.results
        if name in results:
            results = {k: v for k, v in results.items() if k != name}
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
        return _state(self.held, self.released, self.borrowed, values, results, self.facts)

    def noting(self, name: str, value: str) -> State:
        """What a test just told about `name`, keeping what it tells about locks."""
        values = dict(self.values)
        values[name] = value
        return _state(self.held, self.released, self.borrowed, values, self.results, self.facts)

    def with_result(self, name: str, instances: tuple[str, ...], how: str) -> State:
        results = dict(self.results)
        results[name] = (instances, how)
        values = {k: v for k, v in self.values.items() if k != name}
        return _state(self.held, self.released, self.borrowed, values, results, self.facts)

    def forget_variable(self, name: str) -> State:
        """`name` was assigned: conditions and instances that mention it no longer hold."""
        held = dict(self.held)
        changed = False
        for key, lock in self.held.items():
            if lock.cond and _mentions(lock.cond, name):
                lock = held[key] = replace(lock, cond=None)
                changed = True
            if lock.facts:
                facts = _drop_mentions(lock.facts, name)
                if facts is not lock.facts:
                    held[key] = replace(lock, facts=facts, iff=_drop_mentions(lock.iff, name))
                    changed = True
        values = self.values
        results = self.results
        if name in values or name in results:
            values = {k: v for k, v in values.items() if k != name}
            results = {k: v for k, v in results.items() if k != name}
            changed = True
        facts = _drop_mentions(self.facts, name) if self.facts else self.facts
        if not changed and facts is self.facts:
            return self
        return _state(held, self.released, self.borrowed, values, results, facts)

    def forget_facts(self, name: str) -> State:
        """Something may have written `name` behind the assignments we see (`&name` passed
        on, a macro argument, a shadowing declaration's scope ended): nothing is known about
        its value any more."""
        facts = _drop_mentions(self.facts, name)
        held = self.held
        for key, lock in self.held.items():
            if lock.facts:
                lock_facts = _drop_mentions(lock.facts, name)
                if lock_facts is not lock.facts:
                    if held is self.held:
                        held = dict(self.held)
                    held[key] = replace(lock, facts=lock_facts, iff=_drop_mentions(lock.iff, name))
        if facts is self.facts and held is self.held:
            return self
        return _state(held, self.released, self.borrowed, self.values, self.results, facts)

    def with_facts(self, facts: frozenset[Fact]) -> State:
        """Facts a plain assignment of a constant makes true (after `forget_variable`)."""
        return _state(
            self.held, self.released, self.borrowed, self.values, self.results, self.facts | facts
        )

    def split(self, test: str) -> tuple[State | None, State | None]:
        """The states where `test` is true and where it is false (see `assume`)."""
        if not self.held:
            facts = self.facts
            yes = no = None
            if not facts or not contradicts(facts, test, True):
                yes = _state(
                    self.held, self.released, self.borrowed, self.values, self.results,
                    facts | implied(test, True) if "==" in test else facts | {(test, True)},
                )
            if not facts or not contradicts(facts, test, False):
                no = _state(
                    self.held, self.released, self.borrowed, self.values, self.results,
                    facts | {(test, False)},
                )
            return yes, no
        return self.assume(test, True), self.assume(test, False)

    def assume(self, test: str, truth: bool) -> State | None:
        """The state on the branch where `test` has `truth`; None when the path's facts
        contradict it. A lock held only where the test has the other value is not held here;
        one held exactly where it has this value is held on every path here."""
        if self.facts and contradicts(self.facts, test, truth):
            return None
        held = self.held
        for key, lock in self.held.items():
            if lock.facts and contradicts(lock.facts, test, truth):
                if held is self.held:
                    held = dict(self.held)
                del held[key]
            elif lock.iff and not lock.must and _implies(test, truth, lock.iff):
                if held is self.held:
                    held = dict(self.held)
                held[key] = replace(lock, must=True, iff=NO_FACTS)
        if truth and "==" in test:
            facts = self.facts | implied(test, truth)
        else:
            facts = self.facts | {(test, truth)}
        return _state(held, self.released, self.borrowed, self.values, self.results, facts)

    def without_facts(self) -> State:
        """The state with nothing known about variables' values (a loop that did not settle)."""
        held = {
            key: replace(lock, facts=NO_FACTS, iff=NO_FACTS) if lock.facts else lock
            for key, lock in self.held.items()
        }
        return _state(held, self.released, self.borrowed, self.values, self.results, NO_FACTS)

    def reassigned(self, name: str, at: int) -> State:
        """`name = ...` at byte `at`: conditions on it are forgotten, and a lock named through
        it (`v->mutex` after `v = kvm_get_vcpu(kvm, i)`) is another object's from here on."""
        state = self.forget_variable(name)
        if not any(_mentions(lock.base, name) for lock in state.held.values()) and not any(
            _mentions(r, name) for r in state.released | state.borrowed
        ):
            return state
        return state.rename_instances_of(name, at)

    def rename_instances_of(self, name: str, loop: int) -> State:
        """A loop variable moved on: locks named through it are other instances now."""
        held: dict[str, Held] = {}
        for key, lock in self.held.items():
            if _mentions(lock.base, name):
                new_key = f"{lock.base}#{loop}"
                earlier = held.get(new_key)
                must = lock.must or (earlier is not None and earlier.must)
                held[new_key] = replace(lock, instance=new_key, must=must)
            else:
                held[key] = lock
        released = frozenset(r for r in self.released if not _mentions(r, name))
        borrowed = frozenset(b for b in self.borrowed if not _mentions(b, name))
        return replace(self, held=held, released=released, borrowed=borrowed)

    def without_base(self, base: str) -> State:
        """Release every instance written as `base` (one per element of a lock-all loop)."""
        keys = [k for k, lock in self.held.items() if lock.base == base]
        if not keys:
            return self
        released = self.released | {base}
        held = {k: v for k, v in self.held.items() if k not in keys}
        return replace(self, held=held, released=released)


def _state(
    held: dict[str, Held],
    released: frozenset[str],
    borrowed: frozenset[str],
    values: dict[str, str],
    results: dict[str, tuple[tuple[str, ...], str]],
    facts: frozenset[Fact],
) -> State:
    """State(...) without the frozen dataclass's __init__, which sets each field through
    object.__setattr__: three times faster, and a State is built at every assignment, test
    and lock call."""
    state = object.__new__(State)
    fields = state.__dict__
    fields["held"] = held
    fields["released"] = released
    fields["borrowed"] = borrowed
    fields["values"] = values
    fields["results"] = results
    fields["facts"] = facts
    return state


def implied(test: str, truth: bool) -> frozenset[Fact]:
    """The facts `test` having `truth` gives: `n==4` true also makes `n` true."""
    if truth and "==" in test:
        equality = _EQUALITY.fullmatch(test)
        if equality is not None:
            return frozenset({(test, True), (equality[1], True)})
    return frozenset({(test, truth)})


def contradicts(facts: frozenset[Fact], test: str, truth: bool) -> bool:
    """Whether no path satisfying `facts` gives `test` the value `truth`."""
    if (test, not truth) in facts:
        return True
    equality = _EQUALITY.fullmatch(test) if "==" in test else None
    if equality is not None:
        if not truth:
            return False
        name = equality[1]
        if (name, False) in facts:
            return True
        # n==4 is false where n is known to equal another constant
        prefix = name + "=="
        for known, known_truth in facts:
            if (
                known_truth
                and known != test
                and known.startswith(prefix)
                and _EQUALITY.fullmatch(known)
            ):
                return True
        return False
    if truth:
        return False
    # `n` is not false where n==K (K is never 0 in a test)
    prefix = test + "=="
    for known, known_truth in facts:
        if known_truth and known.startswith(prefix) and _EQUALITY.fullmatch(known):
            return True
    return False


def _implies(test: str, truth: bool, facts: frozenset[Fact]) -> bool:
    """Whether `test` having `truth` makes one of `facts` true."""
    if (test, truth) in facts:
        return True
    if truth and "==" in test:
        equality = _EQUALITY.fullmatch(test)
        return equality is not None and (equality[1], True) in facts
    return False


def _drop_mentions(facts: frozenset[Fact], name: str) -> frozenset[Fact]:
    """`facts` without those about `name`; the same object when there are none."""
    for test, _ in facts:
        if name in test:
            break
    else:
        return facts
    kept = frozenset(f for f in facts if not _mentions(f[0], name))
    return facts if len(kept) == len(facts) else kept


def _mentions(text: str, name: str) -> bool:
    start = 0
    while True:
        index = text.find(name, start)
        if index < 0:
            return False
        before = text[index - 1] if index else " "
        end = index + len(name)
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = index + 1


def join(a: State | None, b: State | None) -> State | None:
    """Merge two paths; None is an unreachable path."""
    if a is None:
        return b
    if b is None:
        return a
    if a is b:
        return a
    held: dict[str, Held] = {}
    facts = a.facts & b.facts if a.facts and b.facts else NO_FACTS
    # Deterministic order (a's locks, then b's others): lookups by class take the first match.
    for key in [*a.held, *(k for k in b.held if k not in a.held)]:
        x, y = a.held.get(key), b.held.get(key)
        if x is not None and y is not None:
            merged = x
            if x.must != y.must or x.cond != y.cond or (y.line < x.line):
                merged = replace(
                    x if x.line <= y.line else y,
                    must=x.must and y.must,
                    cond=x.cond if x.cond == y.cond else None,
                )
            if x.facts or y.facts or x.iff or y.iff:
                # (Without facts of their own, what both sides know is the joined state's.)
                merged = _join_facts(merged, x, a, y, b, facts)
            held[key] = merged
        else:
            lock = x or y
            assert lock is not None
            side, other = (a, b) if x is not None else (b, a)
            values = lock.values if lock.values is not None else tuple(sorted(side.values.items()))
            lock_facts = (lock.facts | side.facts) - facts
            iff = _iff(lock, side)
            if iff:
                iff = frozenset(f for f in iff if contradicts(other.facts, *f))
            held[key] = replace(lock, must=False, values=values, facts=lock_facts, iff=iff)
    values = {k: v for k, v in a.values.items() if b.values.get(k) == v}
    for k in (a.values.keys() | b.values.keys()) - values.keys():
        values[k] = "unknown"
    results = {k: v for k, v in a.results.items() if b.results.get(k) == v}
    return _state(held, a.released | b.released, a.borrowed | b.borrowed, values, results, facts)


def _iff(lock: Held, side: State) -> frozenset[Fact]:
    """Facts that hold exactly on the paths of `side` holding `lock`: its own, and when it is
    held on all of them, every fact of the side."""
    return lock.iff | side.facts if lock.must else lock.iff


def _join_facts(merged: Held, x: Held, a: State, y: Held, b: State, facts: frozenset[Fact]) -> Held:
    """A lock held on both sides: the facts true on every path holding it on either."""
    lock_facts = ((x.facts | a.facts) & (y.facts | b.facts)) - facts
    iff = NO_FACTS if merged.must else _iff(x, a) & _iff(y, b)
    if lock_facts == merged.facts and iff == merged.iff:
        return merged
    return replace(merged, facts=lock_facts, iff=iff)


def join_all(states: list[State | None]) -> State | None:
    out: State | None = None
    for state in states:
        out = join(out, state)
    return out


def same(a: State | None, b: State | None) -> bool:
    if a is None or b is None:
        return a is b
    return (
        a.held == b.held
        and a.released == b.released
        and a.borrowed == b.borrowed
        and a.values == b.values
        and a.facts == b.facts
    )
