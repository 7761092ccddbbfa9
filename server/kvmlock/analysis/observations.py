"""What the dataflow saw in one function, for consumers beyond its own checks: function
summaries and call-chain findings (interprocedural analysis), hovers and inlay hints.

Everything is plain data (no tree-sitter nodes), so it can be cached per function, pickled
to worker processes and compared.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class HeldAt:
    """A lock held at an event: its class, whether every path holds it, where it was taken."""

    cls: str
    kind: str
    must: bool
    line: int
    origin: str  # "acquired" | "entry" | "guard"
    instance: str = ""  # the lock expression as written (tells two vCPUs' mutexes apart)


@dataclass(frozen=True)
class Site:
    start_byte: int
    end_byte: int
    line: int
    column: int

    def shifted(self, byte_delta: int, line_delta: int) -> Site:
        return Site(
            self.start_byte + byte_delta,
            self.end_byte + byte_delta,
            self.line + line_delta,
            self.column,
        )


@dataclass(frozen=True)
class LockEvent:
    """An acquire, release, assert or synchronize_srcu, with the locks held just before it."""

    action: str  # "acquire" | "release" | "assert" | "sync"
    cls: str
    kind: str
    site: Site
    held: tuple[HeldAt, ...]
    text: str  # the call as written, whitespace collapsed
    instance: str = ""  # the lock expression as written, `$N...` when rooted at parameter N
    nested: bool = False  # an acquire with a lockdep subclass: re-taking the class is meant


@dataclass(frozen=True)
class CallSite:
    """A call to something that is not in the lock API: a helper, a callback, a table entry."""

    callee: str  # the callee expression as written: `foo`, `kvm_x86_ops.run`, `static_call(x)`
    site: Site
    held: tuple[HeldAt, ...]
    arguments: tuple[str, ...]  # argument texts, whitespace removed
    argument_classes: tuple[str | None, ...]  # lock class when an argument names a lock
    # For a call through `base->field` or `base.field`: the struct type of the base as the
    # function declares it (`const struct S *ext`, a cast, container_of), else "".
    base_struct: str = ""


@dataclass(frozen=True)
class Hold:
    """A lock the function returns holding: always, or only when it returns 0 (`zero`:
    `r = helper(); if (r) return r;`) or non-zero (`nonzero`: true, a pointer)."""

    instance: str  # `$N...` when rooted at parameter N, else the expression or the class
    cls: str
    kind: str
    when: str  # "always" | "zero" | "nonzero"


@dataclass(frozen=True)
class Release:
    """A caller's lock the function releases and does not take again on any path."""

    instance: str
    cls: str


@dataclass
class Observations:
    function: str
    events: list[LockEvent] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    entry_held: tuple[str, ...] = ()  # __must_hold/__releases classes
    acquires_annotated: tuple[str, ...] = ()  # __acquires classes
    held_at_every_return: tuple[str, ...] = ()  # classes taken here and held at all returns
    released_from_caller: tuple[str, ...] = ()  # released before being taken: caller's locks
    # Net effects on the caller's locks, by instance (see Hold, Release).
    holds: tuple[Hold, ...] = ()
    releases: tuple[Release, ...] = ()
    # Classes asserted held (lockdep_assert_held) on every path to every return; an assertion
    # behind a test or an early return is a requirement only on some paths.
    required_everywhere: tuple[str, ...] = ()
    # Outer locks locking.rst requires for a lock taken here without them (and not taken
    # here either): (outer class, index of the acquire in `events`). A requirement on entry.
    requires_outer: tuple[tuple[str, int], ...] = ()

    def clear(self) -> None:
        self.events.clear()
        self.calls.clear()

    def call_effect(self) -> CallEffect | None:
        """What calling this function does to the caller's locks, or None for nothing
        (`__acquires` counts as a lock held at every return)."""
        holds = self.holds + tuple(
            Hold(cls, cls, "", "always")
            for cls in self.acquires_annotated
            if not any(h.cls == cls for h in self.holds)
        )
        if not holds and not self.releases:
            return None
        return CallEffect(releases=self.releases, holds=holds)

    def shifted(self, byte_delta: int, line_delta: int) -> Observations:
        # Direct constructors and one shifted copy per distinct held set: the language
        # server shifts every function below a new line, and dataclasses.replace() per
        # object was most of that time.
        held_cache: dict[tuple[HeldAt, ...], tuple[HeldAt, ...]] = {}

        def held(at: tuple[HeldAt, ...]) -> tuple[HeldAt, ...]:
            found = held_cache.get(at)
            if found is None:
                found = held_cache[at] = tuple(
                    HeldAt(h.cls, h.kind, h.must, h.line + line_delta, h.origin, h.instance)
                    for h in at
                )
            return found

        events = [
            LockEvent(
                e.action,
                e.cls,
                e.kind,
                e.site.shifted(byte_delta, line_delta),
                held(e.held),
                e.text,
                e.instance,
                e.nested,
            )
            for e in self.events
        ]
        calls = [
            CallSite(
                c.callee,
                c.site.shifted(byte_delta, line_delta),
                held(c.held),
                c.arguments,
                c.argument_classes,
                c.base_struct,
            )
            for c in self.calls
        ]
        return replace(self, events=events, calls=calls)


@dataclass(frozen=True)
class CallEffect:
    """What calling a function does to the caller's held locks, as the walker applies it at
    the call: the caller's locks it releases, then the locks it returns holding. Instances
    rooted at a parameter (`$1->irq_lock`) become the call's argument (`irq->irq_lock`)."""

    releases: tuple[Release, ...] = ()
    holds: tuple[Hold, ...] = ()

    @property
    def conditional(self) -> tuple[Hold, ...]:
        """The holds that depend on the return value."""
        return tuple(h for h in self.holds if h.when != "always")


_PATH = re.compile(r"^&?[A-Za-z_][\w.>\-\[\]]*$")  # `irq`, `&kvm->arch`, `v->kvm`


def parameter_of(pattern: str) -> tuple[int, str] | None:
    """`$1->irq_lock` → (1, "->irq_lock"); None for a pattern not rooted at a parameter."""
    if not pattern.startswith("$"):
        return None
    digits = len(pattern) - len(pattern[1:].lstrip("0123456789"))
    return int(pattern[1:digits]), pattern[digits:]


def instance_at_call(pattern: str, arguments: Sequence[str]) -> str | None:
    """A callee's lock instance as the caller writes it, given the call's argument texts
    (whitespace removed): `$1->irq_lock` at `f(kvm, irq)` is `irq->irq_lock`, at
    `f(kvm, &d->irq)` `d->irq.irq_lock`; a global's name stays; None when the argument is
    missing or not a plain path."""
    rooted = parameter_of(pattern)
    if rooted is None:
        return pattern
    index, rest = rooted
    if index >= len(arguments) or not _PATH.match(arguments[index]):
        return None
    base = arguments[index]
    if base.startswith("&"):
        if not rest:
            return base[1:]
        return base[1:] + ("." + rest[2:] if rest.startswith("->") else rest)
    return base + rest
