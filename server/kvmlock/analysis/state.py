"""The held-lock state the dataflow carries along each path, and how paths merge.

A state maps a lock *instance* (the expression as written, e.g. `vcpu->mutex`) to what is known
about it; the *class* (`vcpu->mutex`, `kvm->lock`) is what the rules talk about. `must` is true
when every path reaching the point holds the lock; a lock held on some paths only is kept with
must=False so that checks can stay quiet (or speak softly) about it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

# What a variable or a return is known to hold, as a token: "zero" (0), "null" (NULL, false),
# "err" (-EINVAL, ERR_PTR()), "one" (true, a positive number), "unknown"; plus, for a return,
# "void" and "lock-helper" (returns a trylock's result).
VALUE_KIND = {"zero": "ok", "one": "ok", "null": "fail", "err": "fail"}
VALUE_TRUTH = {"zero": False, "null": False, "err": True, "one": True}


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

    @staticmethod
    def empty() -> State:
        return State(
            held={}, released=frozenset(), borrowed=frozenset(), values={}, results={}
        )

    def holding(self, held: Held) -> State:
        new = dict(self.held)
        new[held.instance] = held
        return State(new, self.released, self.borrowed, self.values, self.results)

    def without(self, instance: str) -> State:
        new = dict(self.held)
        lock = new.pop(instance, None)
        released = self.released | {lock.base} if lock else self.released
        return State(new, released, self.borrowed, self.values, self.results)

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
        return State(self.held, self.released, self.borrowed, values, results)

    def noting(self, name: str, value: str) -> State:
        """What a test just told about `name`, keeping what it tells about locks."""
        values = dict(self.values)
        values[name] = value
        return State(self.held, self.released, self.borrowed, values, self.results)

    def with_result(self, name: str, instances: tuple[str, ...], how: str) -> State:
        results = dict(self.results)
        results[name] = (instances, how)
        values = {k: v for k, v in self.values.items() if k != name}
        return State(self.held, self.released, self.borrowed, values, results)

    def forget_variable(self, name: str) -> State:
        """`name` was assigned: conditions and instances that mention it no longer hold."""
        held = dict(self.held)
        changed = False
        for key, lock in self.held.items():
            if lock.cond and _mentions(lock.cond, name):
                held[key] = replace(lock, cond=None)
                changed = True
        values = self.values
        results = self.results
        if name in values or name in results:
            values = {k: v for k, v in values.items() if k != name}
            results = {k: v for k, v in results.items() if k != name}
            changed = True
        if not changed:
            return self
        return State(held, self.released, self.borrowed, values, results)

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
            held[key] = merged
        else:
            lock = x or y
            assert lock is not None
            side = a if x is not None else b
            facts = lock.values if lock.values is not None else tuple(sorted(side.values.items()))
            held[key] = replace(lock, must=False, values=facts)
    values = {k: v for k, v in a.values.items() if b.values.get(k) == v}
    for k in (a.values.keys() | b.values.keys()) - values.keys():
        values[k] = "unknown"
    results = {k: v for k, v in a.results.items() if b.results.get(k) == v}
    return State(
        held=held,
        released=a.released | b.released,
        borrowed=a.borrowed | b.borrowed,
        values=values,
        results=results,
    )


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
    )
