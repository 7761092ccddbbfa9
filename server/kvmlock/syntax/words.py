"""Kernel word lists for the rewrite, loaded from queries/kernel_c.toml.

The lists live in a data file so that adding a macro seen in the wild is a one-line change
that needs no code review of regular expressions.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
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


def _alternation(words: list[str]) -> bytes:
    # Longest first so that `__init` never wins over `__initdata` inside the alternation.
    return b"|".join(re.escape(w.encode()) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class KernelWords:
    recorded: frozenset[str]
    # `\b(?:word|...)\b`: blanked outright.
    bare_words: re.Pattern[bytes]
    # `\b(?:name|...)\s*\(`: blanked together with the balanced argument list.
    with_arguments: re.Pattern[bytes]
    # Names of macros whose call is followed by a body.
    block_call: re.Pattern[bytes]
    loop_names: re.Pattern[bytes]
    if_names: frozenset[str]
    statement_argument: dict[str, int]
    type_argument_macros: frozenset[str]
    not_macros: frozenset[str]
    type_first_declarators: frozenset[str]


@lru_cache(maxsize=4)
def load_words(path: str | None = None) -> KernelWords:
    file = Path(path) if path else queries_dir() / "kernel_c.toml"
    with file.open("rb") as fh:
        data = tomllib.load(fh)
    ann = data["annotations"]
    blocks = data["blocks"]
    types = data["types"]
    recorded = list(ann["recorded"])
    with_args = recorded + list(ann["with_arguments"])
    loop_alts = [re.escape(w) for w in blocks["loop_macros"]] + list(blocks["loop_name_patterns"])
    loop_re = "|".join(f"(?:{a})" for a in loop_alts)
    if_names = list(blocks["if_macros"])
    block_alts = "|".join([loop_re, *(re.escape(w) for w in if_names)])
    return KernelWords(
        recorded=frozenset(recorded),
        bare_words=re.compile(rb"\b(?:" + _alternation(ann["words"]) + rb")\b"),
        with_arguments=re.compile(rb"\b(" + _alternation(with_args) + rb")\s*\("),
        block_call=re.compile(rb"\b(" + block_alts.encode() + rb")\s*\("),
        loop_names=re.compile(loop_re.encode()),
        if_names=frozenset(if_names),
        statement_argument=dict(blocks.get("statement_argument", {})),
        type_argument_macros=frozenset(types["type_argument_macros"]),
        not_macros=frozenset(types["not_macros"]),
        type_first_declarators=frozenset(types["type_first_declarators"]),
    )
