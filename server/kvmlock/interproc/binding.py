"""Which function definitions a call may reach.

Plain names bind to a definition in the same file first (static functions, and the file's own
copy when several exist), then to non-static definitions by name, then to static inline
functions of headers. Calls through tables resolve to every function assigned to the field
(`static_call(kvm_x86_vcpu_run)`, `kvm_x86_ops.vcpu_run`, `ops->invalidate`) or listed in the
handler array (`kvm_vmx_exit_handlers[reason]`); they are may-calls. A `base->field(...)` whose
base has a declared struct type (`const struct S *ext`, a cast, `container_of(x, struct S, m)`,
a file-scope `struct S tbl[]`) goes to the functions assigned to `.field` in that struct's
initialisers, and to nothing else. Anything else is unknown.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from kvmlock.interproc.records import FileRecord, FunctionKey
from kvmlock.syntax.words import queries_dir

_NAME = re.compile(r"[A-Za-z_]\w*")
_MACRO_CALL = re.compile(r"^(\w+)\((\w+)\)$")
_FIELD_CALL = re.compile(r"^(.*?)(?:->|\.)(\w+)$")
_LAST_COMPONENT = re.compile(r"(\w+)(?:\[[^\]]*\])?$")
_SUBSCRIPT_CALL = re.compile(r"^(\w+)\[.*\]$")
_VARIABLE_BASE = re.compile(r"^(\w+)(?:\[.*\])?$")  # `ext`, `tbl[i]`
_STATIC_CALL = ("static_call", "static_call_cond")


@dataclass(frozen=True)
class CallTables:
    macros: dict[str, str]
    static_call_prefixes: tuple[tuple[str, str], ...]
    variables: dict[str, str]
    reference_drops: frozenset[str] = frozenset()


@cache
def call_tables() -> CallTables:
    data = tomllib.loads((queries_dir() / "call_tables.toml").read_text(encoding="utf-8"))
    prefixes = sorted(data.get("static_call_prefixes", {}).items(), key=lambda p: -len(p[0]))
    return CallTables(
        macros=dict(data.get("macros", {})),
        static_call_prefixes=tuple(prefixes),
        variables=dict(data.get("variables", {})),
        reference_drops=frozenset(data.get("reference_drops", {}).get("names", ())),
    )


@dataclass(frozen=True)
class Targets:
    keys: tuple[FunctionKey, ...]
    table: str = ""  # "kvm_x86_ops.vcpu_run", "kvm_vmx_exit_handlers[]": a may-call

    @property
    def through_table(self) -> bool:
        return bool(self.table)


NO_TARGETS = Targets(())


class CallResolver:
    def __init__(self, files: Iterable[FileRecord]) -> None:
        self._local: dict[tuple[str, str], list[FunctionKey]] = defaultdict(list)
        self._global: dict[str, list[FunctionKey]] = defaultdict(list)
        self._header_static: dict[str, list[FunctionKey]] = defaultdict(list)
        # struct -> field -> [(path, function)]; array -> [(path, function)]
        self._fields: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._structs_with_field: dict[str, set[str]] = defaultdict(set)
        self._arrays: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._variables: dict[tuple[str, str], str] = {}  # (path, file-scope variable) -> struct
        # (path, variable, field) -> functions its own initialiser assigns to the field
        self._initialised: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
        for record in files:
            for variable, struct in record.variables:
                self._variables.setdefault((record.path, variable), struct)
            for fn in record.functions:
                self._local[(record.path, fn.name)].append(fn.key)
                if not fn.is_static:
                    self._global[fn.name].append(fn.key)
                elif record.path.endswith(".h"):
                    self._header_static[fn.name].append(fn.key)
            for entry in record.tables:
                if entry.field:
                    self._fields[entry.table][entry.field].append((record.path, entry.function))
                    self._structs_with_field[entry.field].add(entry.table)
                    if entry.variable:
                        self._initialised[(record.path, entry.variable, entry.field)].append(
                            (record.path, entry.function)
                        )
                else:
                    self._arrays[entry.table].append((record.path, entry.function))
        self._cache: dict[tuple[str, str, str], Targets] = {}

    def resolve(self, path: str, callee: str, base_struct: str = "") -> Targets:
        """The targets of a call to `callee` in file `path`; `base_struct`: for a call
        through `base->field`, the struct type the caller declared the base with."""
        key = (path, callee, base_struct)
        found = self._cache.get(key)
        if found is None:
            found = self._resolve(path, callee, base_struct)
            self._cache[key] = found
        return found

    def by_name(self, path: str, name: str) -> tuple[FunctionKey, ...]:
        local = self._local.get((path, name))
        if local:
            return tuple(local)
        return tuple(self._global.get(name) or self._header_static.get(name) or ())

    # --- table calls --------------------------------------------------------------------

    def _resolve(self, path: str, callee: str, base_struct: str) -> Targets:
        if callee in call_tables().reference_drops:
            return NO_TARGETS
        if _NAME.fullmatch(callee):
            return Targets(self.by_name(path, callee))
        macro = _MACRO_CALL.match(callee)
        if macro:
            struct, field = self._macro_field(macro[1], macro[2])
            return self._members(struct, field) if struct else NO_TARGETS
        subscript = _SUBSCRIPT_CALL.match(callee)
        if subscript:
            return self._array(path, subscript[1])
        field_call = _FIELD_CALL.match(callee)
        if field_call:
            base, field = field_call[1], field_call[2]
            typed = base_struct
            variable = None if typed else _VARIABLE_BASE.match(base)
            if variable:  # a file-scope variable of this file, `ext` or `tbl[i]`
                typed = self._variables.get((path, variable[1]), "")
                own = self._initialised.get((path, variable[1], field)) if typed else None
                if own:
                    # `read_emultor.f()`, `descs[i].f()`: what the variable's own initialiser
                    # assigns, not every table of the struct.
                    keys = self._keys_of(own)
                    return Targets(keys, f"{variable[1]}.{field}") if keys else NO_TARGETS
            if typed:
                # The declared type decides: a field never initialised to a function in that
                # struct's tables (set at run time) stays unknown.
                return self._members(typed, field)
            struct = self._struct_of(base, field)
            return self._members(struct, field) if struct else NO_TARGETS
        return NO_TARGETS

    def _macro_field(self, macro: str, argument: str) -> tuple[str | None, str]:
        tables = call_tables()
        if macro in _STATIC_CALL:
            for prefix, struct in tables.static_call_prefixes:
                if argument.startswith(prefix):
                    return struct, argument[len(prefix) :]
            return None, argument
        return tables.macros.get(macro), argument

    def _struct_of(self, base: str, field: str) -> str | None:
        """The ops struct a `base->field` call goes through: named by the base's last
        component (`kvm_x86_ops.f`, `nested_ops->f`), or the only struct whose name ends with
        it, or, for a base called `*ops*`, the only struct initialising `.field`. Other
        function-pointer fields are often set at run time, so they stay unknown."""
        candidates = self._structs_with_field.get(field, set())
        last = _LAST_COMPONENT.search(base)
        name = last[1] if last else ""
        named = call_tables().variables.get(name, name)
        if named in candidates:
            return named
        suffixed = [c for c in candidates if name and c.endswith(name)]
        if len(suffixed) == 1:
            return suffixed[0]
        if "ops" in name and len(candidates) == 1:
            return next(iter(candidates))
        return None

    def _members(self, struct: str, field: str) -> Targets:
        members = self._fields.get(struct, {}).get(field, [])
        keys = self._keys_of(members)
        return Targets(keys, f"{struct}.{field}") if keys else NO_TARGETS

    def _array(self, path: str, array: str) -> Targets:
        members = self._arrays.get(array, [])
        local = [m for m in members if m[0] == path]
        keys = self._keys_of(local or members)
        return Targets(keys, f"{array}[]") if keys else NO_TARGETS

    def _keys_of(self, members: list[tuple[str, str]]) -> tuple[FunctionKey, ...]:
        keys: dict[FunctionKey, None] = {}
        for member_path, function in members:
            for key in self.by_name(member_path, function):
                keys.setdefault(key)
        return tuple(keys)
