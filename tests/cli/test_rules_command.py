"""`kvmlock rules`: the rule base that applies, and where it came from."""

from __future__ import annotations

import json
from pathlib import Path


def test_rules_json_lists_rules(cli, tmp_path: Path) -> None:
    run = cli("rules", "--format", "json", tmp_path)
    assert run.code == 0
    data = json.loads(run.out)
    assert data["builtin"] is True
    assert data["rules"], "the built-in pack has rules"
    assert "order" in json.dumps(data["rules"])


def test_rules_text_names_the_builtin_pack(cli, tmp_path: Path) -> None:
    run = cli("rules", tmp_path)
    assert run.code == 0
    assert "built-in pack" in run.out.splitlines()[0]
    assert "kvm->slots_lock" in run.out


def test_rules_from_explicit_locking_rst_say_kernel_tree(cli, tmp_path: Path) -> None:
    rst = tmp_path / "Documentation" / "virt" / "kvm" / "locking.rst"
    rst.parent.mkdir(parents=True)
    rst.write_text("Locking\n=======\n\nNothing here yet.\n", encoding="utf-8")
    run = cli("rules", "--format", "json", tmp_path / "virt")
    assert run.code == 0
    data = json.loads(run.out)
    assert data["builtin"] is False
    assert data["source"] == str(rst.resolve())
    explicit = cli("rules", "--locking-rst", rst)
    assert str(rst.resolve()) in explicit.out.splitlines()[0]


def test_rules_missing_locking_rst_is_usage_error(cli, tmp_path: Path) -> None:
    assert cli("rules", "--locking-rst", tmp_path / "nope.rst").code == 2
