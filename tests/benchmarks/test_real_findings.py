"""benchmarks/real_findings.py: findings held against a verdict file.

The comparison runs on synthetic findings and verdicts (no corpus). The real benchmark runs
only with KVMLOCK_REAL=1 and the corpus present (benchmarks/corpus.py --check): it takes
several seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"

sys.path.insert(0, str(BENCH))
try:
    import real_findings as rf
finally:
    sys.path.remove(str(BENCH))

SETS = ("virt+x86", "virt+arm64")


def finding(
    line: int,
    message: str = "return with kvm->lock held (taken at line 10) on a failure path",
    *,
    check: str = "lock-leak",
    severity: str = "warning",
    set_name: str = "virt+x86",
    path: str = "virt/kvm/kvm_main.c",
    function: str = "kvm_vm_ioctl",
) -> rf.Finding:
    return rf.Finding(set_name, check, severity, path, line, function, message)


def verdict_toml(*entries: dict) -> str:
    blocks = []
    for entry in entries:
        lines = ["[[finding]]"]
        for name, value in entry.items():
            lines.append(f"{name} = {json.dumps(value) if isinstance(value, str) else value}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def entry(f: rf.Finding, verdict: str = "false", **extra: object) -> dict:
    key = f.key
    return {
        "set": key.set,
        "check": key.check,
        "path": key.path,
        "function": key.function,
        "message": key.message,
        "verdict": verdict,
        "reason": "read it",
        **extra,
    }


def verdicts(*entries: dict) -> list[rf.Verdict]:
    return rf.parse_verdicts(verdict_toml(*entries), SETS)


# --- normalisation ---------------------------------------------------------------------------


def test_normalise_replaces_line_numbers_and_cuts_the_citation() -> None:
    message = (
        "kvm_arch_vcpu_ioctl_run(vcpu) takes kvm->lock (via vcpu_run → kvm_xen_set_evtchn at "
        "xen.c:1481) while holding vcpu->mutex (line 4099) — locking.rst line 12, "
        '"1. Acquisition Orders": some rule text'
    )
    assert rf.normalise(message) == (
        "kvm_arch_vcpu_ioctl_run(vcpu) takes kvm->lock (via vcpu_run → kvm_xen_set_evtchn at "
        "xen.c:N) while holding vcpu->mutex (line N)"
    )
    assert rf.normalise("x taken at line 2727, return at line 12") == (
        "x taken at line N, return at line N"
    )
    assert rf.normalise("in mmu/mmu.c:6595 and kvm_host.h:7") == "in mmu/mmu.c:N and kvm_host.h:N"


# --- comparison ------------------------------------------------------------------------------


def test_all_judged_is_ok_and_counted_per_set() -> None:
    a = finding(40, severity="error", check="lock-order")
    b = finding(90, severity="info", set_name="virt+arm64", path="arch/arm64/kvm/arm.c")
    result = rf.compare([a, b], verdicts(entry(a, "true"), entry(b, "debatable")), SETS)
    assert result.ok
    x86, arm = result.sets["virt+x86"], result.sets["virt+arm64"]
    assert (x86.errors, x86.warnings, x86.notes, x86.true, x86.false) == (1, 0, 0, 1, 0)
    assert (arm.notes, arm.debatable, arm.unjudged) == (1, 1, 0)


def test_unjudged_finding_fails() -> None:
    judged = finding(40)
    new = finding(70, "mutex_lock(&kvm->lock) while kvm->lock is already held (line 40)",
                  check="double-lock")
    result = rf.compare([judged, new], verdicts(entry(judged)), SETS)
    assert not result.ok
    assert [u.findings for u in result.unjudged] == [(new,)]
    assert result.sets["virt+x86"].unjudged == 1 and result.sets["virt+x86"].false == 1


def test_a_finding_in_another_function_or_set_is_unjudged() -> None:
    judged = finding(40)
    moved = finding(40, function="kvm_vcpu_ioctl")
    other_set = finding(40, set_name="virt+arm64")
    result = rf.compare([moved, other_set], verdicts(entry(judged)), SETS)
    assert not result.ok and len(result.unjudged) == 2
    assert [m.verdict.key for m in result.gone] == [judged.key]


def test_vanished_true_finding_fails() -> None:
    gone = finding(40, check="lock-order", severity="error")
    result = rf.compare([], verdicts(entry(gone, "true")), SETS)
    assert not result.ok
    assert [(m.verdict.key, m.found) for m in result.vanished_true] == [(gone.key, 0)]
    assert result.gone == []


@pytest.mark.parametrize("verdict", ["false", "debatable"])
def test_vanished_false_or_debatable_finding_is_fine(verdict: str) -> None:
    gone = finding(40)
    result = rf.compare([], verdicts(entry(gone, verdict)), SETS)
    assert result.ok
    assert [m.verdict.key for m in result.gone] == [gone.key]
    lines = rf.problems("t", result)
    assert len(lines) == 1 and lines[0].startswith("gone (fine)")


def test_line_shifts_still_match() -> None:
    before = finding(40, "return with kvm->lock held (taken at line 10) on a failure path")
    after = finding(412, "return with kvm->lock held (taken at line 382) on a failure path")
    result = rf.compare([after], verdicts(entry(before, "true")), SETS)
    assert result.ok and result.sets["virt+x86"].true == 1
    chained = "f() takes kvm->lock (via f → g at x86.c:{}) while holding vcpu->mutex (line {})"
    old = finding(100, chained.format(2979, 99), check="lock-order")
    new = finding(130, chained.format(3011, 129), check="lock-order")
    assert rf.compare([new], verdicts(entry(old, "true")), SETS).ok


def test_duplicate_keys_are_counted() -> None:
    one = finding(2710)
    two = finding(2716)
    assert one.key == two.key
    # A count covers both.
    result = rf.compare([one, two], verdicts(entry(one, count=2)), SETS)
    assert result.ok and result.sets["virt+x86"].false == 2
    # Without it, the second is unjudged and the stub asks to raise the count.
    result = rf.compare([one, two], verdicts(entry(one)), SETS)
    assert not result.ok
    assert [(u.findings, u.judged) for u in result.unjudged] == [((two,), 1)]
    assert "raise its count" in "\n".join(rf.problems("t", result))
    # One of two true findings disappeared: that fails.
    result = rf.compare([one], verdicts(entry(one, "true", count=2)), SETS)
    assert not result.ok and [m.found for m in result.vanished_true] == [1]
    # One of two false findings disappeared: fine.
    result = rf.compare([one], verdicts(entry(one, count=2)), SETS)
    assert result.ok and [m.found for m in result.gone] == [1]


# --- the verdict file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"verdict": "TODO"}, "judge it"),
        ({"reason": "  "}, "reason is empty"),
        ({"count": 0}, "count"),
        ({"set": "virt+riscv"}, "not a check set"),
        ({"message": "held (line 40)"}, "not normalised"),
        ({"severity": "warning"}, "unknown field"),
    ],
)
def test_bad_verdict_entries_are_refused(change: dict, complaint: str) -> None:
    bad = {**entry(finding(40)), **change}
    with pytest.raises(rf.VerdictFileError, match=complaint):
        verdicts(bad)


def test_two_entries_with_one_key_are_refused() -> None:
    e = entry(finding(40))
    with pytest.raises(rf.VerdictFileError, match="same key"):
        verdicts(e, {**e, "verdict": "true"})


def test_template_is_loadable_only_after_judging() -> None:
    a, b = finding(2710), finding(2716)
    c = finding(50, "x (line 3)", check="leaf-lock", function="")
    result = rf.compare([a, b, c], [], SETS)
    stubs = rf.template(result)
    assert stubs.count("[[finding]]") == 2 and "count = 2" in stubs
    with pytest.raises(rf.VerdictFileError, match="judge it"):
        rf.parse_verdicts(stubs, SETS)
    judged = stubs.replace('verdict = "TODO"', 'verdict = "false"').replace(
        'reason = ""', 'reason = "read it"'
    )
    assert rf.compare([a, b, c], rf.parse_verdicts(judged, SETS), SETS).ok


def test_committed_verdict_files_load() -> None:
    for tree in rf.TREES.values():
        loaded = rf.load_verdicts(tree.verdict_file, tree.sets)
        assert loaded, tree.verdict_file
        assert {v.key.set for v in loaded} <= set(tree.sets)


# --- the real tree ---------------------------------------------------------------------------


def _corpus_present() -> bool:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "corpus.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode == 0


@pytest.mark.skipif(os.environ.get("KVMLOCK_REAL") != "1", reason="set KVMLOCK_REAL=1")
def test_real_tree_every_finding_judged(tmp_path: Path) -> None:
    if not _corpus_present():
        pytest.skip("corpus not fetched (python benchmarks/corpus.py)")
    out = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "real_findings.py"), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-5000:]
    report = json.loads(out.read_text())
    assert report["ok"]
    for tree in report["trees"]:
        assert set(tree["sets"]) == set(rf.TREES[tree["tree"]].sets)
        for counts in tree["sets"].values():
            findings = counts["errors"] + counts["warnings"] + counts["notes"]
            assert counts["unjudged"] == 0
            assert counts["true"] + counts["false"] + counts["debatable"] == findings
