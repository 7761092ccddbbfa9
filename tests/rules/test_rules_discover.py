"""Which rule base a file gets: explicit path, the enclosing kernel tree's, or built-in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kvmlock.rules import discover
from kvmlock.rules.discover import clear_caches, find_locking_rst, load_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rst"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A fake kernel tree whose locking.rst is our shapes fixture."""
    doc = tmp_path / "linux" / "Documentation" / "virt" / "kvm"
    doc.mkdir(parents=True)
    (doc / "locking.rst").write_text((FIXTURES / "shapes.rst").read_text(encoding="utf-8"))
    source = tmp_path / "linux" / "arch" / "x86" / "kvm" / "x86.c"
    source.parent.mkdir(parents=True)
    source.write_text("int x;\n")
    return tmp_path / "linux"


def test_find_from_file_and_directory(tree: Path) -> None:
    expected = (tree / discover.RELATIVE).resolve()
    assert find_locking_rst(tree / "arch" / "x86" / "kvm" / "x86.c") == expected
    assert find_locking_rst(tree / "arch") == expected
    assert find_locking_rst(tree) == expected


def test_find_outside_a_tree(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely.c"
    lonely.write_text("")
    assert find_locking_rst(lonely) is None


def test_find_nonexistent_start(tree: Path) -> None:
    assert find_locking_rst(tree / "virt" / "kvm" / "not_yet_saved.c") is not None


def test_discovered_tree_text_is_used(tree: Path) -> None:
    rb = load_rules(None, tree / "arch" / "x86" / "kvm" / "x86.c")
    assert rb.builtin is False
    assert rb.source == str((tree / discover.RELATIVE).resolve())
    assert rb.lock_info("kvm->alpha_lock") is not None


def test_explicit_path_wins(tree: Path) -> None:
    explicit = FIXTURES / "unrecognised.rst"
    rb = load_rules(explicit, tree / "arch")
    assert rb.source == str(explicit.resolve())


def test_builtin_when_nothing_found(tmp_path: Path) -> None:
    assert load_rules(None, tmp_path).builtin is True
    assert load_rules(None, None).builtin is True


def test_unreadable_explicit_path_falls_back_with_a_problem(tmp_path: Path) -> None:
    rb = load_rules(tmp_path / "missing.rst", None)
    assert rb.builtin is True
    assert "missing.rst" in rb.problems[0]


def test_cached_per_file_and_refreshed_on_change(tree: Path) -> None:
    near = tree / "arch" / "x86" / "kvm" / "x86.c"
    first = load_rules(None, near)
    assert load_rules(None, near) is first
    assert load_rules(None, tree / "arch") is first
    path = tree / discover.RELATIVE
    path.write_text(path.read_text() + "\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = load_rules(None, near)
    assert again is not first
    assert len(again.rules) == len(first.rules)
