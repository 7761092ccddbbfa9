"""Callee effects at calls (issue 12): what a call does to its caller's locks — releases
them, or returns holding some (always, or depending on what it returns) — applied by the
walker at the call, and assertions that are requirements only on some paths.

The C lives in tests/fixtures/c/interproc/callee_effects/: helpers in one file, their
callers in another, every line that must be reported marked `/* want: RULE SEVERITY */`
and every other line quiet. The tree is checked as a user runs it (the CLI, which
re-analyses callers in rounds until no call's effect changes), per function only
(`--no-interprocedural`), and as one document through `analyse_with_calls`."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from interproc_helpers import FIXTURES, RULES, check_json, records

from kvmlock.analysis.observations import CallEffect, Hold, Release
from kvmlock.interproc.workspace import Workspace, analyse_with_calls
from kvmlock.syntax.document import parse_document

TREE = FIXTURES / "callee_effects"
_WANT = re.compile(r"/\* want: ([a-z-]+) (error|warning|note) \*/")
_SEVERITY = {"info": "note"}  # JSON says "info" where the text report says "note"

Where = tuple[str, int, str, str]  # (file, line, rule, severity)


def _sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(TREE.glob("*.c"))}


def _wanted(name: str | None = None) -> list[Where]:
    found = []
    for file, text in _sources().items():
        for number, line in enumerate(text.splitlines(), 1):
            for rule, severity in _WANT.findall(line):
                found.append((file, number, rule, severity))
    return sorted(w for w in found if name is None or w[0] == name)


def _where(finding: dict) -> Where:
    severity = _SEVERITY.get(finding["severity"], finding["severity"])
    return (Path(finding["path"]).name, finding["line"], finding["rule"], severity)


def _with_functions(findings: list[dict]) -> list[dict]:
    """The JSON report's findings, each with the name of the function it is in."""
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for name, text in _sources().items():
        doc = parse_document(name, text.encode())
        spans[name] = [
            (doc.line_col(fn.start_byte)[0], doc.line_col(fn.end_byte)[0], fn.name)
            for fn in doc.functions
        ]
    for finding in findings:
        (finding["function"],) = [
            fn for first, last, fn in spans[Path(finding["path"]).name]
            if first <= finding["line"] <= last
        ]
    return findings


@pytest.fixture(scope="module")
def checked() -> list[dict]:
    code, findings, err = check_json(TREE)
    assert code == 1, err
    return _with_functions(findings)


@pytest.fixture(scope="module")
def alone() -> list[dict]:
    code, findings, err = check_json("--no-interprocedural", TREE)
    assert code == 1, err
    return _with_functions(findings)


# --- the whole tree through the command line --------------------------------------------


def test_the_tree_reports_exactly_the_marked_lines(checked: list[dict]) -> None:
    assert sorted(map(_where, checked)) == sorted(_wanted() + _NOTES)


@pytest.mark.parametrize("name", ["irq_flush.c", "caps.c", "move.c", "vms.c", "reset.c"])
def test_each_file_reports_its_marked_lines(checked: list[dict], name: str) -> None:
    got = sorted(w for w in map(_where, checked) if w[0] == name and w[3] != "note")
    assert got == _wanted(name)


def _message(findings: list[dict], name: str, line: int, rule: str) -> str:
    (message,) = [
        f["message"] for f in findings
        if Path(f["path"]).name == name and f["line"] == line and f["rule"] == rule
    ]
    return message


def _line_of(name: str, text: str) -> int:
    (number,) = [
        n for n, line in enumerate(_sources()[name].splitlines(), 1) if text in line
    ]
    return number


# --- 1. a callee releases the caller's lock ---------------------------------------------


def test_a_helper_unlocking_each_element_leaves_the_loop_quiet(checked: list[dict]) -> None:
    # kvm_demo_flush_irqs (unannotated helper) and kvm_demo_drop_irqs (__releases):
    # one interrupt locked per iteration, the helper unlocks it on every path.
    quiet = {"kvm_demo_flush_irqs", "kvm_demo_drop_irqs"}
    assert [f for f in checked if f["function"] in quiet] == []


def test_a_helper_unlocking_on_some_paths_only_leaves_the_leak(checked: list[dict]) -> None:
    line = _line_of("irq_flush.c", "return -EIO; /* want: lock-leak")
    message = _message(checked, "irq_flush.c", line, "lock-leak")
    assert "irq_lock held" in message and "on a failure path" in message


def test_without_effects_the_release_helpers_leave_locks_behind(alone: list[dict]) -> None:
    # --no-interprocedural: the helpers' unlocks are not seen at the calls, and the
    # per-function false positives come back: a double lock at the next iteration and a
    # leak at the failure return, in both loops.
    got = Counter(
        (f["function"], f["rule"]) for f in alone if f["path"].endswith("irq_flush.c")
    )
    for function in ("kvm_demo_flush_irqs", "kvm_demo_drop_irqs", "kvm_demo_flush_pending_irqs"):
        assert got[(function, "double-lock")] == 1
        assert got[(function, "lock-leak")] == 1


def test_an_unlock_all_helper_releases_every_vcpu_the_caller_locked(
    checked: list[dict], alone: list[dict]
) -> None:
    # kvm_demo_set_caps locks each vCPU in a kvm_for_each_vcpu loop and calls the
    # unlock-all helper on the failure path inside the loop and after it.
    assert [f for f in checked if f["function"] == "kvm_demo_set_caps"] == []
    (leak,) = [f for f in alone if f["function"] == "kvm_demo_set_caps"]
    assert (leak["rule"], leak["severity"]) == ("lock-leak", "info")


# --- 2. helpers that return holding locks depending on their result -------------------


@pytest.mark.parametrize(
    "function",
    ["kvm_demo_move_state", "kvm_demo_copy_state", "kvm_demo_mirror_state", "kvm_demo_poke_irqs"],
)
def test_a_caller_testing_the_result_is_quiet(checked: list[dict], function: str) -> None:
    # `r = h(); if (r) return r;`, `if (h()) goto out;`, `if (h() < 0)` for a helper
    # holding two VMs' kvm->lock (nested) when it returns 0, `if (!h())` for one holding
    # kvm->irq_lock when it returns true.
    assert [f for f in checked if f["function"] == function] == []


@pytest.mark.parametrize(
    ("function", "lock"),
    [
        ("kvm_demo_move_state_leaky", "kvm->lock"),
        ("kvm_demo_copy_state_leaky", "kvm->lock"),
        ("kvm_demo_mirror_state_leaky", "kvm->lock"),
        ("kvm_demo_poke_irqs_leaky", "kvm->irq_lock"),
    ],
)
def test_a_failure_path_after_the_helper_succeeded_leaks(
    checked: list[dict], function: str, lock: str
) -> None:
    (leak,) = [f for f in checked if f["function"] == function]
    assert (leak["rule"], leak["severity"]) == ("lock-leak", "warning")
    assert f"return with {lock} held" in leak["message"]
    assert "on a failure path" in leak["message"]


def test_without_effects_the_conditional_holds_are_not_seen(alone: list[dict]) -> None:
    assert [f for f in alone if f["path"].endswith("move.c")] == []


def test_returns_that_do_not_tell_give_the_call_no_effect(checked: list[dict]) -> None:
    # kvm_demo_lock_unless_fast returns 0 holding kvm->lock and 0 not holding it: its
    # own returns disagree (reported there), and kvm_demo_tune, which returns -EINVAL
    # after the call, is not told it leaks.
    assert [f for f in checked if f["function"] == "kvm_demo_tune"] == []
    assert [f["rule"] for f in checked if f["function"] == "kvm_demo_lock_unless_fast"] == [
        "lock-leak"
    ]


# --- 3. lock-all and unlock-all helpers over the vCPUs ----------------------------------


@pytest.mark.parametrize(
    ("function", "helper"),
    [
        ("kvm_demo_set_pmu_caps", "kvm_demo_lock_all_vcpus(kvm)"),  # kvm_for_each_vcpu
        ("kvm_demo_set_tsc_khz", "kvm_demo_lock_vcpus_by_index(kvm)"),  # kvm_get_vcpu(kvm, i)
    ],
)
def test_kvm_lock_after_a_lock_all_helper_is_out_of_order(
    checked: list[dict], function: str, helper: str
) -> None:
    (order,) = [f for f in checked if f["function"] == function and f["rule"] == "lock-order"]
    lines = _sources()["caps.c"].splitlines()
    # At the later lock, right after the helper's call.
    assert "mutex_lock(&kvm->lock);" in lines[order["line"] - 1]
    helper_line = order["line"] - 1
    assert lines[helper_line - 1].strip().startswith(f"{helper};")
    assert order["severity"] == "error"
    assert f"while holding vcpu->mutex (line {helper_line})" in order["message"]
    assert "kvm->lock is taken outside vcpu->mutex" in order["message"]


@pytest.mark.parametrize("function", ["kvm_demo_set_quirks", "kvm_demo_set_tsc_khz_ordered"])
def test_kvm_lock_outside_a_lock_all_helper_is_quiet(checked: list[dict], function: str) -> None:
    assert [f for f in checked if f["function"] == function] == []


def test_a_lock_all_loop_that_unlocks_on_its_way_out_still_holds_them_all(
    checked: list[dict],
) -> None:
    # kvm_demo_set_cpuid: `mutex_unlock(&vcpu->mutex); goto out_unlock;` inside the
    # kvm_for_each_vcpu loop does not make it an unlock-all loop: kvm->lock after it is
    # taken inside every vCPU's mutex.
    (order,) = [f for f in checked if f["function"] == "kvm_demo_set_cpuid"]
    assert (order["rule"], order["severity"]) == ("lock-order", "error")
    assert "mutex_lock(&kvm->lock) while holding vcpu->mutex" in order["message"]


def test_two_vcpus_locked_through_locals_are_one_lock_to_the_caller(
    checked: list[dict],
) -> None:
    # kvm_demo_lock_vcpu_pair returns holding two vCPUs' mutexes the caller cannot name:
    # taken once at the call (not twice: no double lock), released by the unlock helper.
    assert [f for f in checked if f["function"] == "kvm_demo_copy_vcpu_regs"] == []


def test_a_forgotten_unlock_all_leaks_the_vcpu_mutexes(checked: list[dict]) -> None:
    (leak,) = [f for f in checked if f["function"] == "kvm_demo_set_pmu_filter"]
    assert (leak["rule"], leak["severity"]) == ("lock-leak", "warning")
    assert "return with vcpu->mutex held" in leak["message"]


def test_without_effects_the_lock_all_helpers_hold_nothing(alone: list[dict]) -> None:
    # No lock-order after the lock-all helpers, no leak of what they took.
    through = {"kvm_demo_set_pmu_caps", "kvm_demo_set_tsc_khz", "kvm_demo_set_pmu_filter"}
    assert [f for f in alone if f["function"] in through] == []


# --- 4. assertions on some paths only ---------------------------------------------------

# Calls to helpers asserting kvm->slots_lock behind a test or after an early return: the
# caller takes the lock itself, elsewhere. At most a note (an uncertain requirement is
# one step softer), so the exit status is not affected.
_NOTES = [
    ("reset.c", 11, "requires-held", "note"),
    ("reset.c", 12, "requires-held", "note"),
]


def test_an_assertion_on_some_paths_is_no_certain_requirement(checked: list[dict]) -> None:
    """A requirement on some paths only: a note (it may be a real latent bug where the
    caller's context does not skip the assertion, like a vCPU created outside vCPU context),
    which never fails a run."""
    got = sorted(_where(f) for f in checked if f["function"] == "kvm_demo_reset_slots")
    assert got == _NOTES
    assert [f for f in checked if f["function"] == "kvm_demo_reset_all_slots_locked"] == []


def test_an_unconditional_assertion_is_still_required(checked: list[dict]) -> None:
    line = _line_of("reset.c", "kvm_demo_zap_locked(kvm); /* want")
    message = _message(checked, "reset.c", line, "requires-held")
    assert "requires kvm->slots_lock (via kvm_demo_zap_locked at mmu.c:" in message
    assert "kvm_demo_reset_all_slots() takes it itself" in message


def test_assertions_everywhere_and_on_some_paths() -> None:
    observed = {
        fn.name: fn.observations.required_everywhere
        for record in records(_sources())
        for fn in record.functions
        if fn.name.startswith("kvm_demo_zap_")
    }
    assert observed == {
        "kvm_demo_zap_counted": (),
        "kvm_demo_zap_populated": (),
        "kvm_demo_zap_locked": ("kvm->slots_lock",),
    }


# --- the effects themselves --------------------------------------------------------------


def test_the_effects_applied_at_calls() -> None:
    workspace = Workspace(lambda _path: RULES)
    for record in records(_sources()):
        workspace.set_file(record)
    effects: dict[str, CallEffect] = {}
    for name in _sources():
        effects.update(workspace.call_effects(name))
    helpers = {k: v for k, v in effects.items() if not k.startswith("kvm_demo_set_")}
    vcpus_held = (Hold("", "vcpu->mutex", "mutex", "always"),)
    vcpus_released = (Release("", "vcpu->mutex"),)
    assert helpers == {
        "kvm_demo_queue_irq_unlock": CallEffect(
            releases=(Release("$1->irq_lock", "kvm_demo_irq->irq_lock"),)
        ),
        "kvm_demo_irq_drop": CallEffect(
            releases=(Release("$0->irq_lock", "kvm_demo_irq->irq_lock"),)
        ),
        "kvm_demo_lock_all_vcpus": CallEffect(holds=vcpus_held),
        "kvm_demo_lock_vcpus_by_index": CallEffect(holds=vcpus_held),
        "kvm_demo_unlock_all_vcpus": CallEffect(releases=vcpus_released),
        "kvm_demo_unlock_vcpus_by_index": CallEffect(releases=vcpus_released),
        "kvm_demo_lock_vcpu_pair": CallEffect(holds=vcpus_held),
        "kvm_demo_unlock_vcpu_pair": CallEffect(releases=vcpus_released),
        "kvm_demo_lock_two_vms": CallEffect(
            holds=(
                Hold("$0->lock", "kvm->lock", "mutex", "zero"),
                Hold("$1->lock", "kvm->lock", "mutex", "zero"),
            )
        ),
        "kvm_demo_unlock_two_vms": CallEffect(
            releases=(Release("$0->lock", "kvm->lock"), Release("$1->lock", "kvm->lock"))
        ),
        "kvm_demo_trylock_irqs": CallEffect(
            holds=(Hold("$0->irq_lock", "kvm->irq_lock", "mutex", "nonzero"),)
        ),
        # not here: kvm_demo_queue_irq_maybe_unlock (releases on some paths only) and
        # kvm_demo_lock_unless_fast (its returns do not tell whether it holds the lock)
    }


# --- the CLI and analyse_with_calls agree ------------------------------------------------


def test_analyse_with_calls_agrees_with_the_cli(checked: list[dict]) -> None:
    # The tree's files as one document (its function names are unique): the same
    # findings, function by function, line by line.
    starts: list[tuple[int, str]] = []
    pieces: list[str] = []
    line = 1
    for name, text in _sources().items():
        starts.append((line, name))
        pieces.append(text)
        line += text.count("\n")
    doc = parse_document("callee_effects.c", "".join(pieces).encode())

    def placed(number: int) -> tuple[str, int]:
        first, name = max(s for s in starts if s[0] <= number)
        return name, number - first + 1

    together = sorted(
        (*placed(f.span.line), f.rule, _SEVERITY.get(f.severity, f.severity), f.function)
        for f in analyse_with_calls(doc, RULES)
    )
    from_cli = sorted((*_where(f), f["function"]) for f in checked)
    assert together == from_cli


# --- the same loops within one function ---------------------------------------------------

_INDEX_LOOPS = """\
int kvm_demo_set_apic_base(struct kvm *kvm, u64 base)
{
	struct kvm_vcpu *vcpu;
	int i;

	for (i = 0; i < atomic_read(&kvm->online_vcpus); i++) {
		vcpu = kvm_get_vcpu(kvm, i);
		mutex_lock(&vcpu->mutex);
	}
	mutex_lock(&kvm->lock);
	kvm->arch.demo_apic_base = base;
	mutex_unlock(&kvm->lock);
	for (i = 0; i < atomic_read(&kvm->online_vcpus); i++) {
		vcpu = kvm_get_vcpu(kvm, i);
		mutex_unlock(&vcpu->mutex);
	}
	if (kvm_demo_apic_busy(kvm))
		return -EBUSY;
	return 0;
}
"""


def test_index_loops_lock_and_unlock_every_vcpu() -> None:
    # Every vCPU's mutex is held after the lock-all loop (an error, not "on some paths"),
    # and none after the unlock-all loop (no leak at the failure return).
    doc = parse_document("virt/kvm/demo.c", _INDEX_LOOPS.encode())
    got = [(f.span.line, f.rule, f.severity) for f in analyse_with_calls(doc, RULES)]
    assert got == [(10, "lock-order", "error")]
