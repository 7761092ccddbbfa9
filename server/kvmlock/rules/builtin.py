"""The built-in rule pack: used when no locking.rst is found near the code being checked.

The facts live in builtin_pack.toml, written in our own words and cited by line number in the
kernel version they describe. Every rule's citation names the pack (not a file on disk), and
RuleBase.builtin is True, so listings and findings can say the built-in pack is in use.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from .classes import canonical
from .kinds import make_rule
from .model import Citation, LockInfo, Rule, RuleBase

PACK_PATH = Path(__file__).with_name("builtin_pack.toml")


def builtin_rule_base() -> RuleBase:
    """A fresh RuleBase holding the pack's facts (fresh, so callers may extend it)."""
    source, rules, problems = _load()
    return RuleBase(source=source, builtin=True, rules=list(rules), problems=list(problems))


@cache
def _load() -> tuple[str, tuple[Rule, ...], tuple[str, ...]]:
    data = tomllib.loads(PACK_PATH.read_text(encoding="utf-8"))
    pack = data.get("pack", {})
    kernel = pack.get("kernel", "an unknown Linux version")
    blob = f", blob {pack['blob']}" if "blob" in pack else ""
    source = f"built-in pack (describes {kernel} Documentation/virt/kvm/locking.rst{blob})"
    rules: list[Rule] = []
    problems: list[str] = []
    for index, entry in enumerate(data.get("rule", [])):
        try:
            rules.append(_rule(entry, source))
        except (KeyError, TypeError, ValueError) as err:
            problems.append(f"built-in pack rule #{index + 1} is malformed: {err}")
    for index, entry in enumerate(data.get("lock", [])):
        try:
            rules.append(_lock(entry, source))
        except (KeyError, TypeError) as err:
            problems.append(f"built-in pack lock #{index + 1} is malformed: {err}")
    return source, tuple(rules), tuple(problems)


def _citation(entry: dict[str, Any], source: str) -> Citation:
    return Citation(source, int(entry["line"]), str(entry["section"]))


def _rule(entry: dict[str, Any], source: str) -> Rule:
    return make_rule(
        str(entry["kind"]),
        [canonical(str(lock)) for lock in entry["locks"]],
        _citation(entry, source),
        entry.get("arch"),
        bool(entry.get("allowed", False)),
    )


def _lock(entry: dict[str, Any], source: str) -> LockInfo:
    return LockInfo(
        citation=_citation(entry, source),
        arch=None,
        name=canonical(str(entry["name"])),
        type=str(entry.get("type", "")),
        arch_field=str(entry.get("arch", "")),
        protects=str(entry.get("protects", "")),
        comment=str(entry.get("comment", "")),
    )
