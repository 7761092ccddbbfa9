"""Canonical lock-class names.

A lock class is written the way locking.rst and lockdep name it: `kvm->slots_lock`,
`vcpu->mutex`, `kvm->arch.xen.xen_lock`, `kvm_lock`, `cpus_read_lock`. This module turns the
many spellings of one class (across kernel versions, in prose and in code) into one string.
The tables live in lock_classes.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TABLE_PATH = Path(__file__).with_name("lock_classes.toml")
_CALL_SUFFIX = re.compile(r"\(\s*\)$")
_SPACES = re.compile(r"\s+")
_STRUCT_SCOPE = re.compile(r"^(?P<struct>\w+)::(?P<field>[\w.]+)$")


@dataclass(frozen=True)
class ClassTables:
    struct_roots: dict[str, str]
    conventional_variables: dict[str, str]
    pointer_fields: dict[str, str]
    aliases: dict[str, str]


@cache
def tables() -> ClassTables:
    data = tomllib.loads(_TABLE_PATH.read_text(encoding="utf-8"))
    return ClassTables(
        struct_roots=dict(data.get("struct_roots", {})),
        conventional_variables=dict(data.get("conventional_variables", {})),
        pointer_fields=dict(data.get("pointer_fields", {})),
        aliases=dict(data.get("aliases", {})),
    )


@cache
def canonical(name: str) -> str:
    """The canonical class for a lock name as written in prose or derived from code."""
    text = _SPACES.sub("", name.strip().strip("`").strip())
    text = text.lstrip("&")
    text = _CALL_SUFFIX.sub("", text)
    aliases = tables().aliases
    if text in aliases:
        return aliases[text]
    scoped = _STRUCT_SCOPE.match(text)
    if scoped:
        root = tables().struct_roots.get(scoped["struct"], scoped["struct"])
        text = f"{root}.{scoped['field']}" if "->" in root else f"{root}->{scoped['field']}"
    return aliases.get(text, text)


def struct_root(struct_name: str) -> str:
    """Class prefix of a struct's instances: `kvm_hv` → `kvm->arch.hyperv`."""
    return tables().struct_roots.get(struct_name, struct_name)


def join_field(root: str, field: str) -> str:
    """Append a field to a class root: roots that already contain `->` continue with `.`."""
    return f"{root}.{field}" if "->" in root else f"{root}->{field}"
