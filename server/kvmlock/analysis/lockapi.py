"""The lock API table (queries/lock_api.toml): which calls take, drop or test which lock."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from kvmlock.syntax.words import queries_dir


@dataclass(frozen=True)
class KindInfo:
    sleeps: bool
    spins: bool
    shared: bool
    waits: bool = True


@dataclass(frozen=True)
class ApiEntry:
    name: str
    action: str  # acquire | release | try | cond | assert | sync | downgrade
    kind: str
    arg: int
    lock_class: str = ""  # fixed class for argument-less calls
    via: str = ""  # "vcpu": the argument is a vCPU and its kvm->srcu is meant
    nested: bool = False  # lockdep subclass given: re-taking the class is intended
    field: str = ""  # the lock is this field of the argument (`xa_lock(&xa)`: xa.xa_lock)


@dataclass(frozen=True)
class GuardEntry:
    type: str
    kind: str
    cond: bool = False
    lock_class: str = ""


@dataclass(frozen=True)
class LockApi:
    functions: dict[str, ApiEntry]
    guards: dict[str, GuardEntry]
    kinds: dict[str, KindInfo]

    def kind(self, name: str) -> KindInfo:
        return self.kinds.get(name, KindInfo(sleeps=False, spins=False, shared=False, waits=True))


@cache
def lock_api() -> LockApi:
    data = tomllib.loads((queries_dir() / "lock_api.toml").read_text(encoding="utf-8"))
    functions = {}
    for row in data["functions"]:
        entry = ApiEntry(
            name=row["name"],
            action=row["action"],
            kind=row.get("kind", ""),
            arg=row.get("arg", 0),
            lock_class=row.get("class", ""),
            via=row.get("via", ""),
            nested=row.get("nested", False),
            field=row.get("field", ""),
        )
        functions[entry.name] = entry
    guards = {
        row["type"]: GuardEntry(
            type=row["type"],
            kind=row["kind"],
            cond=row.get("cond", False),
            lock_class=row.get("class", ""),
        )
        for row in data["guards"]
    }
    kinds = {name: KindInfo(**props) for name, props in data["kinds"].items()}
    return LockApi(functions=functions, guards=guards, kinds=kinds)
