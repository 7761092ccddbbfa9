"""Analysis entry points: a document (or one function of it) and a rule base in, findings out.

`analyse_function` depends only on the function's own text and the file-wide context, so the
language server can cache its result per function and re-run it only for functions an edit
touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from kvmlock.analysis.checks import registry
from kvmlock.analysis.event_checks import EventChecks, FunctionFacts
from kvmlock.analysis.findings import Finding, Span
from kvmlock.analysis.lockapi import LockApi, lock_api
from kvmlock.analysis.lockexpr import Scope
from kvmlock.analysis.observations import CallEffect, Observations
from kvmlock.analysis.state import Held, Origin, State
from kvmlock.analysis.walker import FunctionWalker, GiveUp
from kvmlock.rules.classes import canonical, join_field, struct_root, tables
from kvmlock.rules.model import RuleBase
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.functions import FunctionInfo

_ARCH = re.compile(r"(?:^|/)arch/([A-Za-z0-9_]+)/")
_SUPPRESS = re.compile(rb"kvmlock:\s*ignore\[([a-z0-9_,\s-]+)\]")
_TEXT_LOCK = re.compile(r"^&?\(?\s*([A-Za-z_]\w*)((?:\s*(?:->|\.)\s*\w+)*)\s*\)?$")
_SPINNING_TYPES = ("spinlock", "rwlock", "raw_spinlock")
_CALLED = re.compile(rb"([A-Za-z_]\w*)\s*\(")
NOTIFIER_STRUCTS = ("mmu_notifier_ops",)


@dataclass
class FileContext:
    """What every function of one file shares."""

    path: str
    rules: RuleBase
    api: LockApi
    arch: str | None
    notifier_callbacks: frozenset[str]
    enabled: frozenset[str] = field(default_factory=lambda: frozenset(registry()))
    # What calls to other functions do to the caller's locks (from the interprocedural
    # index; empty without one), by the callee's name.
    call_effects: Mapping[str, CallEffect] = field(default_factory=dict)

    def effects_for(self, body: bytes) -> tuple[tuple[str, CallEffect], ...]:
        """The call effects a function's bytes can meet: part of what its result depends on."""
        effects = self.call_effects
        if not effects:
            return ()
        words = set(_CALLED.findall(body))
        return tuple(
            sorted((name.decode(), effects[name.decode()]) for name in words & self._effect_words)
        )

    @cached_property
    def _effect_words(self) -> frozenset[bytes]:
        return frozenset(name.encode() for name in self.call_effects)


def file_arch(path: str) -> str | None:
    match = _ARCH.search(path.replace("\\", "/"))
    return match[1] if match else None


def file_context(
    doc: SourceDocument,
    rules: RuleBase,
    enabled: frozenset[str] | None = None,
    call_effects: Mapping[str, CallEffect] | None = None,
) -> FileContext:
    from kvmlock.syntax.initialisers import ops_members

    members = ops_members(doc, NOTIFIER_STRUCTS)
    callbacks = frozenset().union(*members.values()) if members else frozenset()
    return FileContext(
        path=doc.path,
        rules=rules,
        api=lock_api(),
        arch=file_arch(doc.path),
        notifier_callbacks=callbacks,
        enabled=enabled if enabled is not None else frozenset(registry()),
        call_effects=call_effects if call_effects is not None else {},
    )


def analyse_document(
    doc: SourceDocument, rules: RuleBase, enabled: frozenset[str] | None = None
) -> list[Finding]:
    return collect_findings(doc.source, analyse_functions(doc, rules, enabled))


def collect_findings(
    source: bytes, results: list[FunctionResult], marked: bool | None = None
) -> list[Finding]:
    """The findings of a file's function results, suppressions applied, sorted. `marked`:
    whether the source holds a suppression comment, when the caller knows."""
    findings = [f for result in results for f in result.findings]
    return sorted(unsuppressed(source, findings, marked), key=Finding.sort_key)


@dataclass
class FunctionResult:
    """One function's findings and observations: the unit the language server caches.

    A cached result follows the function it is placed at (`slot`) as edits move it: its
    findings and observations are moved by how far the function moved since it was analysed
    (`origin`), and only when somebody reads them — hovers and inlay hints read one
    function's, publishing reads those of the few functions with findings, while every
    keystroke would otherwise pay for all of them.
    """

    name: str
    raw_findings: list[Finding]
    raw_observations: Observations
    origin: tuple[int, int] | None = None  # (start byte, line) of the function when analysed
    slot: FunctionInfo | None = None
    _moved_findings: tuple[tuple[int, int], list[Finding]] | None = field(
        default=None, repr=False, compare=False
    )
    _moved: tuple[tuple[int, int], Observations] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def moved_by(self) -> tuple[int, int]:
        """(bytes, lines) the function moved since it was analysed."""
        slot, origin = self.slot, self.origin
        if slot is None or origin is None:
            return (0, 0)
        return (slot.start_byte - origin[0], slot.start_line - origin[1])

    @property
    def findings(self) -> list[Finding]:
        raw = self.raw_findings
        if not raw:
            return raw
        moved = self.moved_by
        if moved == (0, 0):
            return raw
        memo = self._moved_findings
        if memo is None or memo[0] != moved:
            memo = (moved, [f.shifted(*moved) for f in raw])
            self._moved_findings = memo
        return memo[1]

    @property
    def observations(self) -> Observations:
        moved = self.moved_by
        if moved == (0, 0):
            return self.raw_observations
        memo = self._moved
        if memo is None or memo[0] != moved:
            memo = (moved, self.raw_observations.shifted(*moved))
            self._moved = memo
        return memo[1]


def analyse_functions(
    doc: SourceDocument,
    rules: RuleBase,
    enabled: frozenset[str] | None = None,
    call_effects: Mapping[str, CallEffect] | None = None,
) -> list[FunctionResult]:
    ctx = file_context(doc, rules, enabled, call_effects)
    return [analyse_function(doc, function, ctx) for function in doc.functions]


def analyse_function(doc: SourceDocument, fn: FunctionInfo, ctx: FileContext) -> FunctionResult:
    facts = FunctionFacts(
        name=fn.name,
        path=ctx.path,
        arch=ctx.arch,
        is_mmu_notifier=fn.name in ctx.notifier_callbacks,
        acquires=frozenset(),
        parameters=tuple(p.name for p in fn.parameters),
    )
    sink, walker = _walk_with_checks(doc, ctx, facts, ctx.enabled)
    parameters = _parameters(fn)
    for param in parameters:
        walker.scope.declare(param)
    entry, acquires, releases = _entry_state(doc, fn, walker.scope, ctx.rules)
    facts.acquires = acquires
    facts.releases = releases
    sink.observations.entry_held = tuple(sorted({h.cls for h in entry.held.values()}))
    try:
        walker.run(parameters, fn.body, entry)
    except (GiveUp, RecursionError) as exc:
        skipped = _gave_up(doc, fn, ctx, str(exc) or "nesting too deep")
        return FunctionResult(fn.name, [skipped], Observations(fn.name))
    sink.finish()
    if sink.observations.releases:
        _keep_certain_releases(doc, fn, ctx, sink, entry)
    sink.promise_releases()
    return FunctionResult(fn.name, sink.findings, sink.observations)


def _keep_certain_releases(
    doc: SourceDocument, fn: FunctionInfo, ctx: FileContext, sink: EventChecks, entry: State
) -> None:
    """A caller's lock released on only some paths is no effect of the call: walk again
    holding the released locks on entry, and keep those that no return still holds."""
    seeded = entry
    candidates = []
    for release in sink.observations.releases:
        cls, instance = sink.caller_releases[release.instance]
        candidates.append(instance)
        if seeded.find(cls, instance) is None:
            seeded = seeded.holding(
                Held(cls, instance, kind_hint(ctx.rules, cls), 0, fn.start_byte, True, Origin.ENTRY)
            )
    probe, walker = _walk_with_checks(doc, ctx, sink.facts, frozenset())
    try:
        walker.run(_parameters(fn), fn.body, seeded)
    except (GiveUp, RecursionError):
        sink.observations.releases = ()
        return
    everywhere = probe.released_everywhere(candidates)
    sink.observations.releases = tuple(
        release
        for release, instance in zip(sink.observations.releases, candidates, strict=True)
        if instance in everywhere or (not release.instance and release.cls in sink.loop_releases)
    )


def _walk_with_checks(
    doc: SourceDocument, ctx: FileContext, facts: FunctionFacts, enabled: frozenset[str]
) -> tuple[EventChecks, FunctionWalker]:
    """A walker over one function of `doc` and the checks it reports its events to."""
    sink = EventChecks(
        rules=ctx.rules,
        api=ctx.api,
        facts=facts,
        source=doc.source,
        line_col=doc.line_col,
        enabled=enabled,
    )
    walker = FunctionWalker(
        text=doc.text,
        source=doc.source,
        api=ctx.api,
        sink=sink,
        line_of=lambda byte: doc.line_col(byte)[0],
        lock_kind_hint=lambda cls: kind_hint(ctx.rules, cls),
        call_effects=ctx.call_effects,
    )
    return sink, walker


def kind_hint(rules: RuleBase, cls: str) -> str:
    """A lock's kind from its locking.rst :Type:, for locks held on entry."""
    info = rules.lock_info(cls)
    type_text = info.type.lower() if info is not None else ""
    if "raw_spinlock" in type_text:
        return "raw_spinlock"
    if "spinlock" in type_text:
        return "spinlock"
    if "rwlock" in type_text:
        return "rwlock_write"
    if "mutex" in type_text:
        return "mutex"
    if "srcu" in type_text:
        return "srcu"
    return ""


SUPPRESSION_MARK = b"kvmlock:"


def unsuppressed(
    source: bytes, findings: list[Finding], marked: bool | None = None
) -> list[Finding]:
    """Drop findings on lines carrying `// kvmlock: ignore[rule-id]`."""
    if not findings or not (SUPPRESSION_MARK in source if marked is None else marked):
        return findings
    kept = []
    for finding in findings:
        # Only the finding's own line: not the whole file split per keystroke.
        at = min(finding.span.start_byte, len(source))
        end = source.find(b"\n", at)
        line = source[source.rfind(b"\n", 0, at) + 1 : end if end >= 0 else len(source)]
        match = _SUPPRESS.search(line)
        ids = {part.strip() for part in match[1].decode().split(",")} if match else set()
        if finding.rule not in ids and "all" not in ids:
            kept.append(finding)
    return kept


def _parameters(fn: FunctionInfo) -> list:
    declarator = fn.node.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    if declarator is None:
        return []
    params = declarator.child_by_field_name("parameters")
    if params is None:
        return []
    return [p for p in params.named_children if p.type == "parameter_declaration"]


def _entry_state(
    doc: SourceDocument, fn: FunctionInfo, scope: Scope, rules: RuleBase
) -> tuple[State, frozenset[str], frozenset[tuple[str, str]]]:
    """Locks held on entry from __must_hold()/__releases(); classes named by __acquires();
    (instance, class) of the locks __releases() promises to release."""
    state = State.empty()
    acquires: set[str] = set()
    releases: set[tuple[str, str]] = set()
    for note in fn.annotations:
        cls = resolve_text(note.argument, scope)
        if cls is None:
            continue
        kind = note.kind.lstrip("_")
        if kind in ("acquires", "cond_acquires"):
            acquires.add(cls)
        elif kind in ("must_hold", "releases"):
            line = doc.line_col(note.start_byte)[0]
            # The expression as written (`irq->irq_lock`), so the body's own unlock of it is
            # the same instance.
            instance = re.sub(r"\s+", "", note.argument).strip("()").lstrip("&") or cls
            if kind == "releases":
                releases.add((instance, cls))
            state = state.holding(
                Held(
                    cls=cls,
                    instance=instance,
                    kind=kind_hint(rules, cls),
                    line=line,
                    byte=note.start_byte,
                    must=True,
                    origin=Origin.ENTRY,
                )
            )
    return state, frozenset(acquires), frozenset(releases)


def resolve_text(text: str, scope: Scope) -> str | None:
    """Lock class of an annotation argument such as `&kvm->lock` or `kvm->slots_lock`."""
    match = _TEXT_LOCK.match(text.strip())
    if not match:
        return None
    base, rest = match[1], re.sub(r"\s+", "", match[2])
    fields = re.findall(r"(?:->|\.)(\w+)", rest)
    struct = scope.types.get(base) or tables().conventional_variables.get(base)
    path = struct_root(struct) if struct else base
    for name in fields:
        path = join_field(path, name)
    return canonical(path)


def _gave_up(doc: SourceDocument, fn: FunctionInfo, ctx: FileContext, why: str) -> Finding:
    line, col = doc.line_col(fn.start_byte)
    return Finding(
        path=ctx.path,
        span=Span(fn.start_byte, fn.start_byte, line, col, line, col),
        rule="analysis-skipped",
        severity="info",
        message=f"{fn.name}(): not analysed ({why}); the rest of the file was checked",
        function=fn.name,
    )
