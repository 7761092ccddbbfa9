"""order-cycle: the lock nesting seen across the code base, directly and through calls,
forms a cycle between lock classes, as in lockdep's "possible circular locking dependency".

An edge A → B means B was taken while A was held on every path (directly, or by a callee
whose every target takes B). Cycles that contain an edge locking.rst forbids are left to
lock-order, which reports that edge with its rule.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kvmlock.analysis.findings import Finding, Related
from kvmlock.analysis.observations import HeldAt, Site
from kvmlock.interproc.records import FunctionKey, FunctionRecord
from kvmlock.interproc.report import chain_related, finding, via
from kvmlock.interproc.summaries import Step, SummaryIndex, step_in
from kvmlock.rules.model import RuleBase

MAX_CYCLE = 4  # lockdep-style reports longer than this are rarely read to the end
MAX_PER_COMPONENT = 8


@dataclass(frozen=True)
class Edge:
    outer: str
    inner: str
    fn: FunctionRecord
    site: Site
    held: HeldAt
    chain: tuple[Step, ...]  # from the taking function (or the call) to the inner acquire


def lock_graph(
    index: SummaryIndex, rules_for: Callable[[str], RuleBase]
) -> dict[tuple[str, str], Edge]:
    """Every nesting A → B between two real lock classes, with its first witness."""
    return merge_edges(function_edges(index, key, rules_for) for key in sorted(index.functions))


def merge_edges(per_function: Iterable[list[Edge]]) -> dict[tuple[str, str], Edge]:
    """The graph from each function's edges, in function key order: the first witness wins."""
    edges: dict[tuple[str, str], Edge] = {}
    for found in per_function:
        for edge in found:
            edges.setdefault((edge.outer, edge.inner), edge)
    return edges


def function_edges(
    index: SummaryIndex,
    key: FunctionKey,
    rules_for: Callable[[str], RuleBase],
) -> list[Edge]:
    """The nestings one function shows, directly and through its calls: they depend on its
    own record and its callees' summaries only, so the language server keeps them per
    function."""
    edges: list[Edge] = []
    api = index.api
    fn = index.functions[key]
    anchor = index.anchors[key]
    rules = rules_for(fn.path)
    documented = rules.documented_locks()

    def real(cls: str) -> bool:
        return not cls.startswith("$") and ("->" in cls or "." in cls or cls in documented)

    for event in fn.observations.events:
        if event.action != "acquire" or not api.kind(event.kind).waits:
            continue
        step = step_in(fn, anchor, event.site.line, event.site.column, event.text)
        for held in event.held:
            if held.must and held.cls != event.cls and real(held.cls) and real(event.cls):
                edges.append(Edge(held.cls, event.cls, fn, event.site, held, (step,)))
    for call in index.calls[key]:
        if not call.targets.keys or not call.site.held:
            continue
        acquired = index.through(fn, call, "acquires")
        dropped = index.through(fn, call, "drops")
        site = call.site.site
        step = step_in(fn, anchor, site.line, site.column, call.text())
        for cls, effect in acquired.items():
            if not (effect.certain and api.kind(effect.kind).waits and real(cls)):
                continue
            for held in call.site.held:
                if held.must and held.cls != cls and real(held.cls) and held.cls not in dropped:
                    edges.append(
                        Edge(held.cls, cls, fn, call.site.site, held, (step, *effect.chain))
                    )
    return edges


def cycle_findings(
    index: SummaryIndex, rules_for: Callable[[str], RuleBase], enabled: frozenset[str]
) -> list[Finding]:
    if "order-cycle" not in enabled:
        return []
    return cycles_in(lock_graph(index, rules_for), rules_for)


def cycles_in(
    edges: dict[tuple[str, str], Edge], rules_for: Callable[[str], RuleBase]
) -> list[Finding]:
    return [report_ring(ring) for ring in cycle_rings(edges, rules_for)]


def cycle_rings(
    edges: dict[tuple[str, str], Edge], rules_for: Callable[[str], RuleBase]
) -> list[list[Edge]]:
    """The cycles to report, each as its edges (worded by `report_ring`)."""
    found = []
    for cycle in _cycles(edges):
        ring = [edges[(a, b)] for a, b in zip(cycle, (*cycle[1:], cycle[0]), strict=True)]
        if not any(_documented_the_other_way(e, rules_for) for e in ring):
            found.append(ring)
    return found


def _documented_the_other_way(edge: Edge, rules_for: Callable[[str], RuleBase]) -> bool:
    from kvmlock.analysis.engine import file_arch

    rules = rules_for(edge.fn.path)
    return rules.order_chain(edge.inner, edge.outer, file_arch(edge.fn.path)) is not None


def _cycles(edges: dict[tuple[str, str], Edge]) -> list[tuple[str, ...]]:
    """Short cycles, each once (rotated to start at its smallest class), in a stable order."""
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(edges):
        succ[a].append(b)
    found: dict[tuple[str, ...], None] = {}
    per_start: dict[str, int] = defaultdict(int)
    for a, b in sorted(edges):
        path = _shortest(succ, b, a)
        if path is None or len(path) > MAX_CYCLE:
            continue
        cycle = tuple(path)  # b ... a, then back to b
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        if cycle not in found and per_start[cycle[0]] < MAX_PER_COMPONENT:
            per_start[cycle[0]] += 1
            found[cycle] = None
    return list(found)


def _shortest(succ: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for nxt in succ.get(node, ()):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return None


def report_ring(ring: list[Edge]) -> Finding:
    first = min(ring, key=lambda e: (e.fn.path, e.site.line, e.site.column))
    at = ring.index(first)
    ring = ring[at:] + ring[:at]
    names = " → ".join([e.outer for e in ring] + [ring[0].outer])
    others = "; ".join(
        f"{e.inner} inside {e.outer} in {e.fn.name}() ({os.path.basename(e.fn.path)}:"
        f"{e.site.line})"
        for e in ring[1:]
    )
    what = first.chain[0].text
    if len(first.chain) > 1:
        what += f" takes {first.inner} ({via(first.chain[1:])})"
    message = (
        f"{what} while holding {first.outer} (line {first.held.line}), but elsewhere "
        f"{others}: the cycle {names} can deadlock"
    )
    related: list[Related] = []
    for edge in ring:
        related.append(
            Related(f"{edge.outer} held here ({edge.fn.name})", edge.fn.path, edge.held.line, 1)
        )
        related.extend(chain_related(edge.chain, f"takes {edge.inner}"))
    return finding(
        check_id="order-cycle",
        path=first.fn.path,
        function=first.fn.name,
        site=first.site,
        steps_down=0,
        message=message,
        rule=None,
        related=related,
    )

