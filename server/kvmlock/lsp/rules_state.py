"""Which rules apply to a document in the editor: the setting's locking.rst, else the one of
the document's kernel tree — its open buffer when the user is editing it — else the built-in
pack. A buffer the reader cannot use keeps the previous rules in force."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lsprotocol import types

from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.rules.discover import clear_caches, find_locking_rst, load_rules
from kvmlock.rules.locking_rst import read_locking_rst
from kvmlock.rules.model import RuleBase

Problem = tuple[int, str, types.DiagnosticSeverity]


class RulesState:
    def __init__(self) -> None:
        self.buffers: dict[str, RuleBase] = {}

    @staticmethod
    def is_locking_rst(path: str | None) -> bool:
        return bool(path) and Path(path).name == "locking.rst"  # type: ignore[arg-type]

    def for_path(self, path: str | None, explicit: str = "") -> RuleBase:
        if explicit:
            key = _key(Path(explicit))
            return self.buffers.get(key) or load_rules(Path(explicit), None)
        if not path:
            return builtin_rule_base()
        found = find_locking_rst(Path(path))
        if found is not None and _key(found) in self.buffers:
            return self.buffers[_key(found)]
        return load_rules(None, Path(path))

    def describe(self, explicit: str = "", near: str | None = None) -> tuple[str, bool]:
        """The rule source for a place (a workspace folder or a file)."""
        rules = self.for_path(near, explicit)
        return rules.source, rules.builtin

    def use_buffer(self, path: str, text: str) -> list[Problem]:
        """Read an edited locking.rst; report what could not be read."""
        rules = read_locking_rst(text, path)
        problems: list[Problem] = [
            (1, problem, types.DiagnosticSeverity.Error) for problem in rules.problems
        ]
        problems += [
            (
                item.citation.line,
                f"kvmlock cannot turn this sentence into a rule: {item.text[:120]}",
                types.DiagnosticSeverity.Warning,
            )
            for item in rules.unrecognised
        ]
        if not rules.rules:
            problems.append(
                (
                    1,
                    "no rule could be read from this file; the previous rules stay in force",
                    types.DiagnosticSeverity.Error,
                )
            )
            return problems
        self.buffers[_key(Path(path))] = rules
        return problems

    def drop_buffer(self, path: str) -> None:
        self.buffers.pop(_key(Path(path)), None)

    def forget_disk(self) -> None:
        clear_caches()

    def forget_explicit(self) -> None:
        clear_caches()


@lru_cache(maxsize=256)
def _key(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path)
