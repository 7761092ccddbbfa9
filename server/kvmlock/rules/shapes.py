"""The sentence shapes of locking.rst's "Acquisition Orders" section, as a table.

Each row is a regular expression over one bullet's plain text (markup stripped, lines joined)
and a builder turning a match into facts. A bullet may match several rows; the union of what
they build is what the bullet says. Rows that build nothing (`informational`) still count as
understood, so the sentence is not reported as unreadable.

The kernel text has changed wording between releases (see docs/rule-base.md), so rows are
deliberately loose about filler words ("the", "call to", "therefore") and strict about the
parts that carry meaning: which lock, which verb, which side.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from .classes import canonical
from .model import (
    SRCU_CLASS,
    LeafRule,
    MmuNotifierRule,
    OrderRule,
    RequiresOuterRule,
    Rule,
    SrcuReadSideRule,
    SyncSrcuForbiddenRule,
    SyncSrcuInsideRule,
)

# A lock name as the prose writes it. It must look like code (a `->`/`::`/`.` path, an
# underscore, or a call) so that English words ("these", "though", "it") never pass as locks.
_NAME = r"[A-Za-z_]\w*"
LOCK = (
    rf"(?<![\w>.:&-])(?:{_NAME}(?:(?:->|::|\.){_NAME})+|[A-Za-z][A-Za-z0-9]*_\w*|{_NAME}(?=\(\)))"
    r"(?:\(\))?"
)
# Bounded repetition keeps matching linear on hostile input (a file of one endless list).
LIST = rf"{LOCK}(?:\s*,\s*{LOCK}){{0,16}}(?:\s*,?\s+(?:and|or)\s+{LOCK})?"
MAX_SENTENCE = 1500  # characters; real bullets are a few hundred
_SRCU = r"kvm->srcu"
_SYNC = rf"synchronize_srcu\(\s*(?:&\s*{_SRCU}\s*)?\)"
_READ_SIDE = rf"inside\s+(?:an?\s+)?{_SRCU}\s+read-side\s+critical\s+section"

Fact = tuple[type[Rule], dict[str, Any]]
Builder = Callable[[re.Match[str]], list[Fact]]


def locks(listed: str) -> list[str]:
    """The canonical lock names in a LIST match, in order."""
    return [canonical(m.group(0)) for m in re.finditer(LOCK, listed)]


def _order(outer: str, inner: str) -> list[Fact]:
    return [
        (OrderRule, {"outer": o, "inner": i}) for o in locks(outer) for i in locks(inner) if o != i
    ]


def _each(kind: type[Rule], listed: str, **extra: Any) -> list[Fact]:
    return [(kind, {"lock": lock, **extra}) for lock in locks(listed)]


def _requires(inner: str, outer: str) -> list[Fact]:
    facts = _order(outer, inner)
    facts += [
        (RequiresOuterRule, {"inner": i, "outer": o}) for i in locks(inner) for o in locks(outer)
    ]
    return facts


@dataclass(frozen=True)
class Shape:
    name: str
    regex: str
    build: Builder
    example: str  # our own wording of a sentence of this shape, for docs and tests

    @property
    def pattern(self) -> re.Pattern[str]:
        # Compiled on first use: the table costs ~40 ms to compile, and a run on the
        # built-in rules (no locking.rst to read) never needs it.
        return _compiled(self.regex)


@cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


def _shape(name: str, regex: str, build: Builder, example: str) -> Shape:
    return Shape(name, regex, build, example)


SHAPES: tuple[Shape, ...] = (
    _shape(
        "taken-outside",
        rf"(?P<a>{LIST})\s+(?:is|are)\s+taken\s+outside\s+(?:of\s+)?(?P<b>{LIST})",
        lambda m: _order(m["a"], m["b"]),
        "kvm->lock is taken outside kvm->x_lock and kvm->y_lock",
    ),
    _shape(
        "taken-inside",
        rf"(?P<a>{LIST})\s+(?:is|are)\s+taken\s+inside\s+(?:of\s+)?(?P<b>{LIST})",
        lambda m: _order(m["b"], m["a"]),
        "kvm->x_lock and kvm->y_lock are taken inside kvm->lock",
    ),
    _shape(
        "taken-inside-and-requires",
        rf"(?P<a>{LIST})\s+(?:is|are)\s+taken\s+inside\s+(?P<b>{LOCK}),?\s+and\s+cannot\s+be"
        rf"\s+taken\s+without\s+(?:already\s+)?holding\s+(?P<c>{LOCK})",
        lambda m: _requires(m["a"], m["c"]),
        "kvm->x_lock is taken inside kvm->lock, and cannot be taken without already holding "
        "kvm->lock",
    ),
    _shape(
        "sections-must-also-take",
        rf"(?P<c>{LOCK})\s+is\s+an?\s+\w+\s*[.;]\s+critical\s+sections\s+for\s+(?P<a>{LIST})"
        rf"\s+must\s+also\s+take\s+(?:the\s+)?(?:{LOCK}|it)",
        lambda m: _requires(m["a"], m["c"]),
        "kvm->mmu_lock is an rwlock; critical sections for kvm->x_lock must also take "
        "kvm->mmu_lock",
    ),
    _shape(
        "lock-type-aside",
        rf"(?P<a>{LOCK})\s+is\s+an?\s+(?:rwlock|spinlock|mutex|rw_semaphore|raw\s+spinlock)\b",
        lambda m: [],
        "kvm->mmu_lock is an rwlock",
    ),
    _shape(
        "sync-inside-sections-for",
        rf"{_SYNC}\s+is\s+called\s+inside\s+(?:the\s+)?critical\s+sections?\s+for\s+(?P<a>{LIST})",
        lambda m: _each(SyncSrcuInsideRule, m["a"]),
        "synchronize_srcu(&kvm->srcu) is called inside critical sections for kvm->lock and "
        "kvm->x_lock",
    ),
    _shape(
        "sync-inside-section",
        rf"{_SYNC}\s+is\s+called\s+inside\s+(?:the\s+|a\s+)?(?P<a>{LOCK})\s+critical\s+section",
        lambda m: _each(SyncSrcuInsideRule, m["a"]),
        "synchronize_srcu(&kvm->srcu) is called inside the kvm->x_lock critical section",
    ),
    _shape(
        "these-locks-not-in-srcu",
        rf"critical\s+sections?\s+for\s+(?P<a>{LIST})\s*[.;]\s+(?:these|those)\s+locks\s+cannot"
        rf"\s+be\s+taken\s+{_READ_SIDE}",
        lambda m: _each(SrcuReadSideRule, m["a"], allowed=False),
        "... critical sections for kvm->lock and kvm->x_lock. These locks cannot be taken "
        "inside a kvm->srcu read-side critical section",
    ),
    _shape(
        "not-in-srcu",
        rf"(?P<a>{LIST})\s+cannot\s+be\s+taken\s+{_READ_SIDE}",
        lambda m: _each(SrcuReadSideRule, m["a"], allowed=False),
        "kvm->x_lock cannot be taken inside a kvm->srcu read-side critical section",
    ),
    _shape(
        "can-in-srcu",
        rf"(?P<a>{LIST})\s+can\s+(?:therefore\s+|also\s+)?be\s+taken\s+{_READ_SIDE}",
        lambda m: _each(SrcuReadSideRule, m["a"], allowed=True),
        "kvm->y_lock can be taken inside a kvm->srcu read-side critical section",
    ),
    _shape(
        "released-before-sync",
        rf"(?P<a>{LOCK})\s+(?:instead\s+)?is\s+released\s+before\s+(?:the\s+call\s+to\s+)?{_SYNC}"
        rf"\s*(?:[.,;]\s*(?:it\s+)?|\s+and\s+)can\s+(?:therefore\s+)?be\s+taken\s+{_READ_SIDE}",
        lambda m: _each(SrcuReadSideRule, m["a"], allowed=True),
        "kvm->y_lock instead is released before the call to synchronize_srcu(). It can therefore "
        "be taken inside a kvm->srcu read-side critical section",
    ),
    _shape(
        "unlike-released-before-sync",
        rf"unlike\s+(?P<a>{LOCK})\s*,\s*(?P<b>{LOCK})\s+is\s+released\s+before\s+{_SYNC}",
        lambda m: (
            _each(SrcuReadSideRule, m["b"], allowed=True)
            + _each(SrcuReadSideRule, m["a"], allowed=False)
        ),
        "Unlike kvm->x_lock, kvm->y_lock is released before synchronize_srcu(&kvm->srcu)",
    ),
    _shape(
        "sync-cannot-be-called-inside",
        rf"{_SYNC}\s+cannot\s+be\s+called\s+inside\s+(?:an?\s+|the\s+)?(?P<a>{LOCK})"
        r"\s+critical\s+section",
        lambda m: _each(SyncSrcuForbiddenRule, m["a"]),
        "synchronize_srcu(&kvm->srcu) cannot be called inside a kvm->x_lock critical section",
    ),
    _shape(
        "mmu-notifiers-must-not-take",
        rf"mmu\s+notifiers?\s+(?:callbacks?\s+)?must\s+not\s+take\s+(?:either\s+|any\s+of\s+)?"
        rf"(?P<a>{LIST})",
        lambda m: _each(MmuNotifierRule, m["a"]),
        "so MMU notifiers must not take either kvm->x_lock or kvm->y_lock",
    ),
    _shape(
        "everything-else-is-a-leaf",
        r"^everything\s+else\s+is\s+a\s+leaf\b",
        lambda m: [(LeafRule, {})],
        "Everything else is a leaf: nothing else is taken inside it",
    ),
)


@dataclass(frozen=True)
class Reading:
    facts: list[Fact]
    understood: bool  # some row matched, even one that builds nothing


def read_sentence(text: str) -> Reading:
    """All facts `text` states according to the shape table."""
    facts: list[Fact] = []
    understood = False
    if len(text) > MAX_SENTENCE:
        return Reading(facts, understood)
    for shape in SHAPES:
        for match in shape.pattern.finditer(text):
            understood = True
            for fact in shape.build(match):
                if fact not in facts:
                    facts.append(fact)
    return Reading(facts, understood)


def mentions_lock(text: str) -> bool:
    return re.search(LOCK, text) is not None or SRCU_CLASS in text
