"""Reference-section entries: field lists with wrapped values and item lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvmlock.rules.locking_rst import load_locking_rst
from kvmlock.rules.model import LockInfo, RuleBase

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rst"


@pytest.fixture(scope="module")
def rb() -> RuleBase:
    return load_locking_rst(FIXTURES / "reference.rst")


def entries(rb: RuleBase) -> list[LockInfo]:
    return list(rb.of_type(LockInfo))


def test_tab_indented_list_and_comment(rb: RuleBase) -> None:
    info = rb.lock_info("kvm_sample_lock")
    assert info is not None
    assert info.type == "mutex"
    assert info.arch_field == "any"
    assert info.arch is None
    assert info.protects == (
        "first sample item; second sample item that wraps onto another line; third item"
    )
    assert info.comment == "A comment spread over three lines, indented with tabs."
    assert info.citation.line == 6
    assert info.citation.section == "3. Reference"


def test_space_indented_value_and_literal_markup(rb: RuleBase) -> None:
    info = rb.lock_info("kvm->spaced_lock")
    assert info is not None
    assert info.protects == "a single value that continues on a space-indented line."
    assert info.arch_field == "any (mostly x86)"
    assert info.comment == "Uses literal markup."


def test_entry_name_is_canonical_and_item_needs_no_space(rb: RuleBase) -> None:
    info = rb.lock_info("kvm->arch.sample_write_lock")
    assert info is not None
    assert info.protects == "one item without a space"
    assert "an extra field" in info.comment


def test_missing_type_and_duplicates_are_problems(rb: RuleBase) -> None:
    assert any("kvm->untyped_lock" in p and ":Type:" in p for p in rb.problems)
    assert any("described twice" in p for p in rb.problems)
    assert any("Acquisition Orders" in p for p in rb.problems)
    assert rb.lock_info("kvm_sample_lock").type == "mutex"  # the first entry wins
    assert len(entries(rb)) == 5


def test_reference_in_shapes_fixture() -> None:
    rb = load_locking_rst(FIXTURES / "shapes.rst")
    info = rb.lock_info("kvm->alpha_lock")
    assert info is not None
    assert info.protects == "alpha state, which is long enough to wrap onto a second line."
    kvm_lock = rb.lock_info("kvm_lock")
    assert kvm_lock is not None
    assert kvm_lock.protects == "the sample VM list; the sample usage counter"
    assert kvm_lock.comment == "Two lines of our own comment text."
