"""The built-in pack: well formed, marked as built-in, and equal to what the reader extracts
from the text it describes (so the two cannot drift apart)."""

from __future__ import annotations

import re

import pytest
import seed_after

from kvmlock.rules.builtin import PACK_PATH, builtin_rule_base
from kvmlock.rules.kinds import fact_key
from kvmlock.rules.locking_rst import read_locking_rst
from kvmlock.rules.model import LockInfo


def test_pack_loads_cleanly() -> None:
    rb = builtin_rule_base()
    assert rb.builtin is True
    assert rb.problems == []
    assert rb.source.startswith("built-in pack (describes Linux")
    assert "locking.rst" in rb.source
    assert all(r.citation.document == rb.source for r in rb.rules)
    assert rb.lock_info("vendor_module_lock") is not None


def test_pack_is_a_fresh_copy_each_time() -> None:
    first = builtin_rule_base()
    first.problems.append("mutated")
    assert builtin_rule_base().problems == []


def test_pack_answers_the_checks_questions() -> None:
    rb = builtin_rule_base()
    assert rb.order_chain("kvm->lock", "vcpu->mutex") is not None
    assert rb.srcu_forbidden("kvm->slots_lock") is not None
    assert rb.sync_srcu_forbidden("kvm->slots_arch_lock") is not None
    assert rb.required_outers("kvm->arch.tdp_mmu_pages_lock", "x86")


def _after():
    text = seed_after.after_text()
    if text is None:
        pytest.skip("seed diff or 6.1 text not available")
    return read_locking_rst(text, "after")


def test_pack_matches_reader_on_the_text_it_describes() -> None:
    pack, read = builtin_rule_base(), _after()
    assert {fact_key(r) for r in pack.rules} == {fact_key(r) for r in read.rules}


def test_pack_citations_match_reader_lines() -> None:
    pack, read = builtin_rule_base(), _after()

    def cited(rb):
        return {(fact_key(r), r.citation.line, r.citation.section) for r in rb.rules}

    assert cited(pack) == cited(read)


def test_pack_reference_types_match() -> None:
    pack, read = builtin_rule_base(), _after()
    for info in read.of_type(LockInfo):
        mine = pack.lock_info(info.name)
        assert mine is not None, info.name
        assert mine.type == info.type
        assert mine.arch_field.split()[0] == info.arch_field.split()[0]


def _words(text: str) -> list[str]:
    return re.findall(r"[\w>.:&()-]+", text.lower())


def _shingles(text: str, size: int) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@pytest.mark.parametrize("path", [seed_after.BEFORE, seed_after.MAINLINE], ids=lambda p: p.name)
def test_pack_copies_no_kernel_prose(path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} not available")
    kernel = _shingles(path.read_text(encoding="utf-8"), 8)
    ours = _shingles(PACK_PATH.read_text(encoding="utf-8"), 8)
    assert not (kernel & ours)
