"""Every recognised sentence shape, read from our own fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvmlock.rules.kinds import fact_key
from kvmlock.rules.locking_rst import load_locking_rst, read_locking_rst
from kvmlock.rules.model import (
    LeafRule,
    MmuNotifierRule,
    OrderRule,
    RequiresOuterRule,
    RuleBase,
    SrcuReadSideRule,
    SyncSrcuForbiddenRule,
    SyncSrcuInsideRule,
)
from kvmlock.rules.rst_text import blocks, split_lines
from kvmlock.rules.shapes import SHAPES, read_sentence

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rst"


@pytest.fixture(scope="module")
def rb() -> RuleBase:
    return load_locking_rst(FIXTURES / "shapes.rst")


def keys(rb: RuleBase) -> set[tuple]:
    return {fact_key(r) for r in rb.rules}


def order(outer: str, inner: str, arch: str | None = None) -> tuple:
    return ("order", (outer, inner), arch, None)


def srcu(lock: str, allowed: bool) -> tuple:
    return ("srcu_read_side", (lock,), None, allowed)


def test_fixture_reads_cleanly(rb: RuleBase) -> None:
    assert rb.problems == []
    assert rb.unrecognised == []
    assert rb.builtin is False
    assert rb.source.endswith("shapes.rst")


def test_taken_outside_single_pair_and_lists(rb: RuleBase) -> None:
    assert {
        order("kvm->lock", "vcpu->mutex"),
        order("cpus_read_lock", "kvm_lock"),
        order("kvm->big_lock", "kvm->alpha_lock"),
        order("kvm->big_lock", "kvm->beta_lock"),
        order("kvm->alpha_lock", "kvm->gamma_lock"),
        order("kvm->alpha_lock", "kvm->delta_lock"),
        order("kvm->alpha_lock", "kvm_global_lock"),
    } <= keys(rb)


def test_trailing_clause_adds_no_lock(rb: RuleBase) -> None:
    inners = {r.inner for r in rb.of_type(OrderRule) if r.outer == "kvm->alpha_lock"}
    assert inners == {"kvm->gamma_lock", "kvm->delta_lock", "kvm_global_lock"}


def test_taken_inside_reverses_the_pair(rb: RuleBase) -> None:
    assert order("kvm->big_lock", "kvm->gamma_lock") in keys(rb)


def test_taken_inside_srcu_forbids_synchronize(rb: RuleBase) -> None:
    assert order("kvm->srcu", "kvm->delta_lock") in keys(rb)
    forbidden = [r.lock for r in rb.of_type(SyncSrcuForbiddenRule)]
    assert forbidden == ["kvm->delta_lock"]
    assert rb.sync_srcu_forbidden("kvm->delta_lock") is not None


def test_taken_inside_and_cannot_be_taken_without(rb: RuleBase) -> None:
    required = {(r.inner, r.outer) for r in rb.of_type(RequiresOuterRule) if r.arch is None}
    assert ("kvm->epsilon_lock", "kvm->big_lock") in required
    assert ("kvm->zeta_lock", "kvm->big_lock") in required
    assert order("kvm->big_lock", "kvm->zeta_lock") in keys(rb)


def test_rwlock_critical_sections_must_also_take(rb: RuleBase) -> None:
    required = {(r.inner, r.outer) for r in rb.of_type(RequiresOuterRule)}
    assert {("kvm->eta_lock", "kvm->rw_thing"), ("kvm->theta_lock", "kvm->rw_thing")} <= required
    assert order("kvm->rw_thing", "kvm->theta_lock") in keys(rb)


def test_sync_inside_sections_for_a_list(rb: RuleBase) -> None:
    inside = {r.lock for r in rb.of_type(SyncSrcuInsideRule)}
    assert {"kvm->lock", "kvm->alpha_lock", "kvm->beta_lock", "kvm->iota_lock"} == inside
    for lock in ("kvm->lock", "kvm->alpha_lock", "kvm->beta_lock"):
        assert srcu(lock, False) in keys(rb)


def test_literal_block_is_not_read_as_prose() -> None:
    lines = split_lines((FIXTURES / "shapes.rst").read_text(encoding="utf-8"))
    (bullet,) = [b for b in blocks(lines, 1) if b.line == 41]
    assert bullet.text().endswith("so this sample deadlocks:")
    assert not any("mutex_lock" in b.text() for b in blocks(lines, 1))


def test_sync_inside_one_section_then_instead(rb: RuleBase) -> None:
    assert srcu("kvm->iota_lock", False) in keys(rb)
    assert srcu("kvm->kappa_lock", True) in keys(rb)


def test_unlike_released_before_synchronize(rb: RuleBase) -> None:
    assert srcu("kvm->mu_lock", True) in keys(rb)
    assert srcu("kvm->lambda_lock", False) in keys(rb)
    assert rb.srcu_forbidden("kvm->lambda_lock") is not None
    assert rb.srcu_forbidden("kvm->mu_lock") is None


def test_instead_released_then_it_can(rb: RuleBase) -> None:
    assert srcu("kvm->nu_lock", True) in keys(rb)


def test_plain_cannot_be_taken_inside_srcu(rb: RuleBase) -> None:
    assert srcu("kvm->xi_lock", False) in keys(rb)


def test_mmu_notifiers_must_not_take(rb: RuleBase) -> None:
    assert {r.lock for r in rb.of_type(MmuNotifierRule)} == {"kvm->alpha_lock", "kvm->beta_lock"}


def test_leaf_paragraph(rb: RuleBase) -> None:
    (leaf,) = rb.of_type(LeafRule)
    assert leaf.arch is None
    assert leaf.citation.line == 79


def test_arch_headers_scope_following_bullets(rb: RuleBase) -> None:
    by_inner = {r.inner: r.arch for r in rb.of_type(OrderRule)}
    assert by_inner["kvm->arch.hyperv.hv_lock"] == "x86"
    assert by_inner["kvm->arch.xen.xen_lock"] == "x86"
    assert by_inner["kvm->arch.omicron_lock"] == "x86"
    assert by_inner["vcpu->arch.sample_lock"] == "arm64"
    assert by_inner["vcpu->mutex"] is None
    # "For SRCU:" is a header too, and it resets the scope
    assert all(r.arch is None for r in rb.of_type(SrcuReadSideRule))


def test_arch_rules_apply_only_to_their_arch(rb: RuleBase) -> None:
    assert rb.order_chain("vcpu->mutex", "kvm->arch.xen.xen_lock", "x86") is not None
    assert rb.order_chain("vcpu->mutex", "kvm->arch.xen.xen_lock", "arm64") is None
    assert rb.order_chain("kvm->arch.config_lock", "vcpu->arch.sample_lock", "x86") is None


def test_rwlock_aside_names_canonical_mmu_lock(rb: RuleBase) -> None:
    required = {(r.inner, r.outer, r.arch) for r in rb.of_type(RequiresOuterRule)}
    assert ("kvm->arch.pi_list_lock", "kvm->mmu_lock", "x86") in required


def test_exception_section_is_ignored(rb: RuleBase) -> None:
    assert "kvm->should_be_ignored_lock" not in rb.documented_locks()


def test_citations_point_at_bullet_first_lines(rb: RuleBase) -> None:
    first = {fact_key(r): r.citation for r in rb.rules}
    citation = first[order("kvm->alpha_lock", "kvm_global_lock")]
    assert citation.line == 19
    assert citation.section == "1. Acquisition Orders"
    assert citation.document.endswith("shapes.rst")


def test_every_lock_name_is_canonical(rb: RuleBase) -> None:
    names = rb.documented_locks()
    assert "kvm->arch.mmu_lock" not in names
    assert "cpus_read_lock()" not in names


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_each_shape_example_is_understood(shape) -> None:
    assert shape.pattern.search(shape.example.replace("... ", "")), shape.example
    assert read_sentence(shape.example).understood


def test_english_words_are_never_locks() -> None:
    reading = read_sentence(
        "These locks cannot be taken inside a kvm->srcu read-side critical section"
    )
    assert reading.facts == []


def test_a_bullet_can_state_several_rules() -> None:
    text = (
        "1. Acquisition Orders\n---------------------\n\n- kvm->a_lock is taken outside "
        "kvm->b_lock, and MMU notifiers must not take kvm->b_lock\n"
    )
    rb = read_locking_rst(text, "inline")
    assert {type(r) for r in rb.rules} == {OrderRule, MmuNotifierRule}
