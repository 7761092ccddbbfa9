"""File discovery and parallel checking."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import BAD_ORDER, EXAMPLES, GOOD_ORDER, write_c

from kvmlock.cli import collect_files, default_jobs


def _tree(root: Path) -> None:
    for name in sorted(p.name for p in EXAMPLES.glob("*.c")):
        write_c(root, f"virt/kvm/{name}", (EXAMPLES / name).read_text(encoding="utf-8"))
    write_c(root, "arch/x86/kvm/order.h", BAD_ORDER)
    write_c(root, "arch/x86/kvm/good.c", GOOD_ORDER)
    write_c(root, ".hidden/skipped.c", BAD_ORDER)
    write_c(root, "virt/kvm/notes.txt", "not C\n")


def test_jobs_2_matches_jobs_1(cli, tmp_path: Path) -> None:
    _tree(tmp_path)
    one = cli("check", "--format", "json", "-j", "1", tmp_path)
    two = cli("check", "--format", "json", "--jobs", "2", tmp_path)
    assert one.code == two.code == 1
    assert json.loads(one.out) == json.loads(two.out)
    paths = {f["path"] for f in json.loads(one.out)["findings"]}
    assert len(paths) >= 5
    assert not any(".hidden" in p for p in paths)


def test_discovery_skips_hidden_and_non_c(tmp_path: Path) -> None:
    _tree(tmp_path)
    errors: list[str] = []
    files = collect_files([str(tmp_path)], errors)
    assert errors == []
    assert all(f.endswith((".c", ".h")) for f in files)
    assert not any(".hidden" in f for f in files)
    assert str(tmp_path / "arch/x86/kvm/order.h") in files
    assert files == sorted(files)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_discovery_survives_symlink_loop(tmp_path: Path) -> None:
    write_c(tmp_path, "kvm/a.c", GOOD_ORDER)
    (tmp_path / "kvm" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "kvm" / "self").symlink_to(tmp_path / "kvm", target_is_directory=True)
    errors: list[str] = []
    files = collect_files([str(tmp_path)], errors)
    assert files == [str(tmp_path / "kvm" / "a.c")]


def test_paths_named_twice_are_checked_once(tmp_path: Path) -> None:
    path = write_c(tmp_path, "a.c", GOOD_ORDER)
    errors: list[str] = []
    assert collect_files([str(path), str(tmp_path), str(path)], errors) == [str(path)]


def test_default_jobs() -> None:
    assert default_jobs(None, 1) == 1
    assert default_jobs(None, 0) == 1
    assert 1 <= default_jobs(None, 50) <= (os.cpu_count() or 1)
    assert default_jobs(4, 2) == 2
    assert default_jobs(0, 1) == 1


def test_negative_jobs_is_usage_error(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "a.c", GOOD_ORDER)
    assert cli("check", "-j", "-1", path).code == 2
