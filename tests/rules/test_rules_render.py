"""The `kvmlock rules` listing in text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.rules.locking_rst import load_locking_rst
from kvmlock.rules.render import render_json, render_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rst"


def test_json_lists_everything() -> None:
    rb = load_locking_rst(FIXTURES / "unrecognised.rst")
    data = render_json(rb)
    json.dumps(data)  # plain data only
    assert data["builtin"] is False
    assert data["source"].endswith("unrecognised.rst")
    assert data["rules"][0] == {
        "kind": "order",
        "locks": ["kvm->lock", "vcpu->mutex"],
        "arch": None,
        "statement": "kvm->lock is taken outside vcpu->mutex",
        "citation": {
            "document": rb.source,
            "line": 8,
            "section": "1. Acquisition Orders",
        },
    }
    assert len(data["unrecognised"]) == 4
    assert data["unrecognised"][0]["citation"]["line"] == 10
    assert data["problems"] == []


def test_json_srcu_and_locks() -> None:
    data = render_json(load_locking_rst(FIXTURES / "shapes.rst"))
    srcu = [r for r in data["rules"] if r["kind"] == "srcu_read_side"]
    assert {r["allowed"] for r in srcu} == {True, False}
    names = [lock["name"] for lock in data["locks"]]
    assert names == ["kvm_lock", "kvm->alpha_lock"]
    assert data["locks"][0]["protects"] == "the sample VM list; the sample usage counter"


def test_text_for_builtin_says_so() -> None:
    text = render_text(builtin_rule_base())
    assert text.startswith("Rules from: built-in pack")
    assert "built-in pack is in use" in text
    assert "(arch x86 only)" in text
    assert "vendor_module_lock: mutex, arch x86" in text


def test_text_lists_unrecognised_and_problems() -> None:
    text = render_text(load_locking_rst(FIXTURES / "unrecognised.rst"))
    assert "Sentences not turned into rules (4):" in text
    assert "line 13: kvm->foo_lock must always be dropped before sleeping." in text
    text = render_text(load_locking_rst(FIXTURES / "reference.rst"))
    assert "Problems (3):" in text
    assert "Rules (0):" in text
