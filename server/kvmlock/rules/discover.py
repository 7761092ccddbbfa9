"""Which rule base applies to a file: an explicit locking.rst, the one in the kernel tree the
file lives in, or the built-in pack.

The checker asks once per file, so results are cached: discovery per directory, parsed rule
bases per (path, mtime, size) so that an edited locking.rst is re-read on the next check.
Cached RuleBase objects are shared; callers must treat them as read-only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .builtin import builtin_rule_base
from .locking_rst import load_locking_rst
from .model import RuleBase

RELATIVE = Path("Documentation") / "virt" / "kvm" / "locking.rst"


@lru_cache(maxsize=1024)
def find_locking_rst(start: Path) -> Path | None:
    """The locking.rst of the nearest enclosing directory (of `start` or above) that has one.
    Cached: the language server asks for every keystroke (clear_caches() forgets)."""
    try:
        directory = start.resolve()
        if not directory.is_dir():
            directory = directory.parent
    except OSError:
        return None
    return _find_from(directory)


@lru_cache(maxsize=1024)
def _find_from(directory: Path) -> Path | None:
    for candidate in (directory, *directory.parents):
        path = candidate / RELATIVE
        try:
            if path.is_file():
                return path
        except OSError:
            continue
    return None


def load_rules(locking_rst: Path | None = None, near: Path | None = None) -> RuleBase:
    """Rules for checking code: `locking_rst` if given, else the one found from `near`, else the
    built-in pack. An explicit file that cannot be read falls back to the built-in pack with a
    problem saying so, rather than checking against no rules at all."""
    if locking_rst is not None:
        rb = _load_file(locking_rst)
        if rb is not None:
            return rb
        fallback = builtin_rule_base()
        fallback.problems.insert(0, f"cannot read {locking_rst}; using the built-in pack")
        return fallback
    if near is not None:
        found = find_locking_rst(near)
        if found is not None:
            rb = _load_file(found)
            if rb is not None:
                return rb
    return _builtin()


def clear_caches() -> None:
    """Forget discovered paths and parsed files (tests, or a server told files moved)."""
    find_locking_rst.cache_clear()
    _find_from.cache_clear()
    _resolved.cache_clear()
    _parse.cache_clear()
    _builtin.cache_clear()


def _load_file(path: Path) -> RuleBase | None:
    try:
        resolved = _resolved(path)
        stat = resolved.stat()  # every time: a file changed on disk is read again
    except OSError:
        return None
    return _parse(resolved, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _resolved(path: Path) -> Path:
    return path.resolve()


@lru_cache(maxsize=16)
def _parse(path: Path, mtime_ns: int, size: int) -> RuleBase:
    del mtime_ns, size  # cache key only: a changed file gets a new entry
    return load_locking_rst(path)


@lru_cache(maxsize=1)
def _builtin() -> RuleBase:
    return builtin_rule_base()
