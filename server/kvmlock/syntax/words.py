"""Kernel word lists for the rewrite, loaded from queries/kernel_c.toml.

The lists live in a data file so that adding a macro seen in the wild is a one-line change.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

_ENV_QUERIES = "KVMLOCK_QUERIES"


def queries_dir() -> Path:
    """Directory holding kernel_c.toml and the .scm query files.

    A wheel carries them in kvmlock/queries; a checkout keeps them at the repository root;
    $KVMLOCK_QUERIES overrides both.
    """
    env = os.environ.get(_ENV_QUERIES)
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parents[1] / "queries"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "queries"


def read_query(name: str) -> str:
    return (queries_dir() / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class KernelWords:
    recorded: frozenset[str]
    # Blanked together with their balanced argument list (includes `recorded`).
    with_arguments: frozenset[str]
    bare_words: frozenset[str]
    loop_macros: frozenset[str]
    loop_substrings: tuple[str, ...]
    if_macros: frozenset[str]
    statement_argument: dict[str, int]
    type_argument_macros: frozenset[str]
    not_macros: frozenset[str]
    type_first_declarators: frozenset[str]
    name_first_declarators: frozenset[str]

    def is_loop(self, name: str) -> bool:
        return name in self.loop_macros or any(s in name for s in self.loop_substrings)

    # What the rewrite scans for, made once: it runs per keystroke on the edited function.

    @cached_property
    def attribute_literals(self) -> frozenset[str]:
        """Short literals every attribute word starts with: `__` covers most of them."""
        words = self.with_arguments | self.bare_words
        return frozenset("__" if w.startswith("__") else w for w in words)

    @cached_property
    def field_declarator_literals(self) -> frozenset[str]:
        return frozenset(name.split("_", 1)[0] + "_" for name in self.name_first_declarators)

    @cached_property
    def block_literals(self) -> frozenset[str]:
        return frozenset([*self.loop_substrings, *self.loop_macros, *self.if_macros])


@lru_cache(maxsize=4)
def load_words(path: str | None = None) -> KernelWords:
    file = Path(path) if path else queries_dir() / "kernel_c.toml"
    with file.open("rb") as fh:
        data = tomllib.load(fh)
    ann = data["annotations"]
    blocks = data["blocks"]
    types = data["types"]
    recorded = frozenset(ann["recorded"])
    return KernelWords(
        recorded=recorded,
        with_arguments=recorded | frozenset(ann["with_arguments"]),
        bare_words=frozenset(ann["words"]),
        loop_macros=frozenset(blocks["loop_macros"]),
        loop_substrings=tuple(blocks.get("loop_name_substrings", ())),
        if_macros=frozenset(blocks["if_macros"]),
        statement_argument=dict(blocks.get("statement_argument", {})),
        type_argument_macros=frozenset(types["type_argument_macros"]),
        not_macros=frozenset(types["not_macros"]),
        type_first_declarators=frozenset(types["type_first_declarators"]),
        name_first_declarators=frozenset(types.get("name_first_declarators", ())),
    )
