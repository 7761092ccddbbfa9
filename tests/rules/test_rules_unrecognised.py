"""Sentences the reader cannot read are listed, never dropped."""

from __future__ import annotations

from pathlib import Path

from kvmlock.rules.locking_rst import load_locking_rst
from kvmlock.rules.model import OrderRule

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rst"


def test_unreadable_bullets_and_paragraphs_are_listed() -> None:
    rb = load_locking_rst(FIXTURES / "unrecognised.rst")
    listed = {u.citation.line: u.text for u in rb.unrecognised}
    assert sorted(listed) == [10, 13, 15, 17]
    assert listed[10].startswith("Acquiring cpus_read_lock() while kvm_lock is held")
    assert "trouble, because" in listed[10]  # continuation line joined
    assert listed[13] == "kvm->foo_lock must always be dropped before sleeping."
    assert all(u.citation.section == "1. Acquisition Orders" for u in rb.unrecognised)


def test_readable_neighbours_still_become_rules() -> None:
    rb = load_locking_rst(FIXTURES / "unrecognised.rst")
    assert [(r.outer, r.inner) for r in rb.of_type(OrderRule)] == [("kvm->lock", "vcpu->mutex")]
    assert rb.problems == []


def test_headers_and_lead_ins_are_not_unrecognised() -> None:
    rb = load_locking_rst(FIXTURES / "unrecognised.rst")
    assert not any(u.text.endswith(":") for u in rb.unrecognised)
