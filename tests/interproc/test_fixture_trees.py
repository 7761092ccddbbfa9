"""Multi-file fixtures through the real command line: each `bad` tree yields exactly the
findings listed, and its near-identical `good` twin yields none."""

from __future__ import annotations

import pytest
from interproc_helpers import FIXTURES, check_json

# scenario -> (file, line, rule, severity, words the message must contain)
EXPECTED = {
    "helper_lock": [
        ("vm.c", 11, "lock-order", "error", [
            "takes kvm->lock",
            "via kvm_demo_sync_irqs at irq.c:12",
            "while holding vcpu->mutex (line 10)",
        ]),
    ],
    "srcu_chain": [
        ("run.c", 10, "srcu-order", "error", [
            "via kvm_demo_handle_exit → kvm_demo_handle_hypercall → kvm_demo_remap_slot → "
            "kvm_demo_lock_slots at slots.c:6",
            "takes kvm->slots_lock",
        ]),
    ],
    "requires": [
        ("vm.c", 10, "requires-held", "warning", [
            "requires kvm->slots_lock (via kvm_demo_zap_range at mmu.c:6)",
            "kvm_demo_reset_slots() takes it itself (line 7)",
        ]),
    ],
    "cycle": [
        ("apic.c", 15, "order-cycle", "warning", [
            "the cycle kvm->arch.apic_map_lock → kvm->arch.pmu_lock → "
            "kvm->arch.msr_filter_lock → kvm->arch.apic_map_lock",
            "in kvm_demo_pmu_apply_filter() (pmu.c:8)",
            "in kvm_demo_set_msr_filter() (msr.c:8)",
        ]),
        # msr_filter_lock is also held while the apic map code, two calls down, takes pmu_lock
        ("msr.c", 8, "order-cycle", "warning", [
            "the cycle kvm->arch.msr_filter_lock → kvm->arch.pmu_lock → kvm->arch.msr_filter_lock",
        ]),
    ],
    "recursion": [
        ("walk.c", 17, "srcu-order", "error", ["via kvm_demo_walk_level → kvm_demo_visit_leaf"]),
    ],
    "ops_table": [
        # one of two handlers takes the lock: a step softer, and says so
        ("vmx.c", 41, "srcu-order", "warning", ["through kvm_vmx_demo_exit_handlers[] (1 of 2"]),
        # both vendors take it
        ("x86.c", 8, "lock-order", "error", ["through kvm_x86_ops.demo_sync_state —"]),
        ("x86.c", 9, "lock-order", "warning", ["through kvm_x86_ops.demo_flush (1 of 2 targets)"]),
        ("x86.c", 23, "mmu-notifier", "error", ["in MMU notifier callback kvm_demo_mn_start()"]),
        ("x86.c", 35, "sleep-in-atomic", "error", [
            "ops->invalidate_range_start(&kvm->mmu_notifier, range) may sleep",
            "through mmu_notifier_ops.invalidate_range_start",
        ]),
    ],
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_bad_tree_yields_its_findings(scenario: str) -> None:
    code, findings, err = check_json(FIXTURES / scenario / "bad")
    assert code == 1, err
    got = sorted(
        (f["path"].rsplit("/", 1)[1], f["line"], f["rule"], f["severity"]) for f in findings
    )
    assert got == sorted(e[:4] for e in EXPECTED[scenario])
    for name, line, rule, _severity, words in EXPECTED[scenario]:
        (message,) = [
            f["message"] for f in findings
            if f["path"].endswith("/" + name) and f["line"] == line and f["rule"] == rule
        ]
        for word in words:
            assert word in message


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_good_twin_is_clean(scenario: str) -> None:
    code, findings, err = check_json(FIXTURES / scenario / "good")
    assert (code, findings) == (0, []), err


def test_no_interprocedural_turns_it_off() -> None:
    code, findings, err = check_json("--no-interprocedural", FIXTURES / "ops_table" / "bad")
    assert (code, findings) == (0, []), err


def test_one_file_of_a_pair_alone_has_nothing_to_follow() -> None:
    # Without irq.c the helper is unknown, and unknown callees are neutral.
    code, findings, err = check_json(FIXTURES / "helper_lock" / "bad" / "vm.c")
    assert (code, findings) == (0, []), err


def test_sarif_related_locations_walk_the_chain() -> None:
    import json
    import subprocess
    import sys

    from interproc_helpers import REPO

    proc = subprocess.run(
        [sys.executable, "-m", "kvmlock", "check", "--format", "sarif",
         str(FIXTURES / "srcu_chain" / "bad")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    (result,) = json.loads(proc.stdout)["runs"][0]["results"]
    steps = [
        (loc["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)[1],
         loc["physicalLocation"]["region"]["startLine"], loc["message"]["text"])
        for loc in result["relatedLocations"]
        if "physicalLocation" in loc
    ]
    assert steps[:5] == [
        ("run.c", 9, "kvm->srcu taken here"),
        ("exit.c", 13, "kvm_demo_handle_exit() calls kvm_demo_handle_hypercall() here"),
        ("exit.c", 8, "kvm_demo_handle_hypercall() calls kvm_demo_remap_slot() here"),
        ("slots.c", 11, "kvm_demo_remap_slot() calls kvm_demo_lock_slots() here"),
        ("slots.c", 6, "kvm_demo_lock_slots(): mutex_lock(lock) here"),
    ]
