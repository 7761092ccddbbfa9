"""One file analysed with its calls' effects settled inside it.

A call's effect is what its callee's own walk found, and a file's functions often call each
other (a memslot update and the helpers that drop and retake its lock): the worker that has
the file parsed re-analyses, right away, the functions calling one of the file's own
functions whose effect it just learnt, until nothing changes. The workspace then has to come
back only for effects across files (`kvmlock check`'s rounds).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

from kvmlock.analysis.engine import FunctionResult, analyse_function, file_context
from kvmlock.analysis.observations import CallEffect
from kvmlock.rules.model import RuleBase
from kvmlock.syntax.document import SourceDocument

# A chain of lock helpers settles in as many rounds as it is long; real chains are short.
MAX_EFFECT_ROUNDS = 6


def analyse_settled(
    doc: SourceDocument,
    rules: RuleBase,
    enabled: frozenset[str] | None,
    effects: Mapping[str, CallEffect],
    names: frozenset[str] | None = None,
) -> tuple[list[FunctionResult | None], dict[str, CallEffect]]:
    """Results for `doc`'s functions — every one, or (with `names`) those whose text calls
    one of `names` and, transitively, the file's callers of those whose effect then changed;
    None for the others — and the call effects they were analysed with: `effects` for names
    defined elsewhere, the file's own functions' effects for theirs."""
    functions = doc.functions
    defined = Counter(fn.name for fn in functions)
    applied = dict(effects)
    results: list[FunctionResult | None] = [None] * len(functions)
    todo = set(range(len(functions))) if names is None else _calling(doc, names)
    ctx = file_context(doc, rules, enabled, applied)
    for _ in range(MAX_EFFECT_ROUNDS):
        if not todo:
            break
        for i in sorted(todo):
            results[i] = analyse_function(doc, functions[i], ctx)
        updated = dict(applied)
        for i in todo:
            name = functions[i].name
            if defined[name] != 1:
                continue  # #ifdef twins: the workspace decides whether they agree
            effect = results[i].raw_observations.call_effect()  # type: ignore[union-attr]
            if effect is None:
                updated.pop(name, None)
            else:
                updated[name] = effect
        changed = changed_effects(applied, updated)
        applied = updated
        ctx = replace(ctx, call_effects=applied)
        todo = _calling(doc, changed) if changed else set()
    return results, applied


def changed_effects(
    before: Mapping[str, CallEffect], after: Mapping[str, CallEffect]
) -> frozenset[str]:
    """The callee names whose effect differs (came, went or changed)."""
    return frozenset(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))


def _calling(doc: SourceDocument, names: frozenset[str]) -> set[int]:
    """The functions whose text calls one of `names`, with their #ifdef twins (results are
    told apart by name)."""
    if not names:
        return set()
    calls = re.compile(rb"\b(?:" + b"|".join(n.encode() for n in sorted(names)) + rb")\s*\(")
    callers = {
        fn.name for fn in doc.functions if calls.search(doc.source, fn.start_byte, fn.end_byte)
    }
    return {i for i, fn in enumerate(doc.functions) if fn.name in callers}
