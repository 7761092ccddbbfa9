"""The real kernel texts in ../shared (skipped when that directory is absent)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import seed_after

from kvmlock.rules.kinds import fact_key, kind_of
from kvmlock.rules.locking_rst import load_locking_rst, read_locking_rst
from kvmlock.rules.model import RequiresOuterRule, RuleBase


def _load(path: Path) -> RuleBase:
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return load_locking_rst(path)


@pytest.fixture(scope="module")
def v61() -> RuleBase:
    return _load(seed_after.BEFORE)


@pytest.fixture(scope="module")
def mainline() -> RuleBase:
    return _load(seed_after.MAINLINE)


@pytest.fixture(scope="module")
def after() -> RuleBase:
    text = seed_after.after_text()
    if text is None:
        pytest.skip("seed diff or 6.1 text not available")
    return read_locking_rst(text, "locking.rst (seed after side)")


def counts(rb: RuleBase) -> dict[str, int]:
    return dict(Counter(kind_of(r) for r in rb.rules))


def keys(rb: RuleBase) -> set[tuple]:
    return {fact_key(r) for r in rb.rules}


def test_61_reads_completely(v61: RuleBase) -> None:
    assert v61.problems == []
    assert v61.unrecognised == []
    assert counts(v61) == {
        "order": 7,
        "srcu_read_side": 2,
        "mmu_notifier": 2,
        "requires_outer": 2,
        "leaf": 1,
        "lock": 8,
    }


def test_61_facts(v61: RuleBase) -> None:
    assert ("order", ("kvm->lock", "vcpu->mutex"), None, None) in keys(v61)
    assert ("srcu_read_side", ("kvm->slots_arch_lock",), None, True) in keys(v61)
    assert ("srcu_read_side", ("kvm->slots_lock",), None, False) in keys(v61)
    assert v61.mmu_notifier_forbidden("kvm->slots_lock") is not None
    assert v61.mmu_notifier_forbidden("kvm->slots_arch_lock") is not None
    (tdp,) = v61.required_outers("kvm->arch.tdp_mmu_pages_lock")
    assert isinstance(tdp, RequiresOuterRule)
    assert (tdp.outer, tdp.arch) == ("kvm->mmu_lock", "x86")
    assert tdp.citation.line == 34
    assert v61.required_outers("kvm->arch.tdp_mmu_pages_lock", arch="arm64") == []
    assert ("order", ("vcpu->mutex", "kvm->arch.hyperv.hv_lock"), "x86", None) in keys(v61)


def test_61_reference(v61: RuleBase) -> None:
    kvm_lock = v61.lock_info("kvm_lock")
    assert kvm_lock is not None
    assert (kvm_lock.type, kvm_lock.arch_field, kvm_lock.protects) == ("mutex", "any", "vm_list")
    assert kvm_lock.citation.line == 213
    tsc = v61.lock_info("kvm->arch.tsc_write_lock")
    assert tsc is not None and tsc.arch_field == "x86"
    assert tsc.protects.endswith("; tsc offset in vmcb")
    srcu = v61.lock_info("kvm->srcu")
    assert srcu is not None and srcu.protects == "kvm->memslots; kvm->buses"
    assert v61.lock_info("kvm_count_lock") is not None
    assert v61.lock_info("vendor_module_lock") is None


def test_mainline_2023(mainline: RuleBase) -> None:
    assert mainline.problems == []
    assert mainline.unrecognised == []
    assert counts(mainline) == {
        "order": 9,
        "mmu_notifier": 2,
        "sync_srcu_inside": 1,
        "srcu_read_side": 2,
        "sync_srcu_forbidden": 1,
        "requires_outer": 2,
        "leaf": 1,
        "lock": 8,
    }
    facts = keys(mainline)
    assert ("order", ("cpus_read_lock", "kvm_lock"), None, None) in facts
    assert ("sync_srcu_forbidden", ("kvm->lock",), None, None) in facts
    assert ("order", ("kvm->srcu", "kvm->lock"), None, None) in facts
    assert ("sync_srcu_inside", ("kvm->slots_lock",), None, None) in facts
    assert ("srcu_read_side", ("kvm->slots_arch_lock",), None, True) in facts
    assert mainline.sync_srcu_forbidden("kvm->lock") is not None
    assert mainline.lock_info("vendor_module_lock") is not None
    assert mainline.lock_info("kvm_lock").protects == (
        "vm_list; kvm_usage_count; hardware virtualization enable/disable"
    )


def test_seed_replay_lands_on_hunk_lines() -> None:
    text = seed_after.after_text()
    if text is None:
        pytest.skip("seed diff or 6.1 text not available")
    lines = text.split("\n")
    assert lines[11] == "- cpus_read_lock() is taken outside kvm_lock"
    assert lines[26] == "For SRCU:"
    assert lines[292] == "``vendor_module_lock``"
    assert "kvm_count_lock" not in text


def test_seed_after_side(after: RuleBase) -> None:
    assert after.problems == []
    assert after.unrecognised == []
    facts = keys(after)
    for lock in ("kvm->lock", "vcpu->mutex", "kvm->slots_lock"):
        assert ("sync_srcu_inside", (lock,), None, None) in facts
        assert ("srcu_read_side", (lock,), None, False) in facts
        assert after.srcu_forbidden(lock) is not None
    assert ("srcu_read_side", ("kvm->slots_arch_lock",), None, True) in facts
    assert after.srcu_forbidden("kvm->slots_arch_lock") is None
    for inner in ("kvm->arch.hyperv.hv_lock", "kvm->arch.xen.xen_lock"):
        assert ("order", ("vcpu->mutex", inner), "x86", None) in facts
    assert ("order", ("cpus_read_lock", "kvm_lock"), None, None) in facts
    assert not any(kind_of(r) == "sync_srcu_forbidden" for r in after.rules)
    vendor = after.lock_info("vendor_module_lock")
    assert vendor is not None
    assert (vendor.type, vendor.arch_field) == ("mutex", "x86")
    assert after.lock_info("kvm_count_lock") is None
    assert counts(after) == {
        "order": 9,
        "mmu_notifier": 2,
        "sync_srcu_inside": 3,
        "srcu_read_side": 4,
        "requires_outer": 2,
        "leaf": 1,
        "lock": 8,
    }
