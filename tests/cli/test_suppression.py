"""`// kvmlock: ignore[rule-id]` silences one finding on its line, and only that one."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import write_c

SUPPRESSED = """\
static void kvm_quiet(struct kvm *kvm)
{
	mutex_lock(&kvm->slots_lock);
	mutex_lock(&kvm->lock); // kvmlock: ignore[lock-order]
	mutex_unlock(&kvm->lock);
	mutex_unlock(&kvm->slots_lock);
}
"""


def test_suppression_comment_silences_finding(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "quiet.c", SUPPRESSED)
    run = cli("check", path)
    assert run.code == 0, run.out
    assert run.out == ""


def test_suppression_of_other_id_does_not(cli, tmp_path: Path) -> None:
    path = write_c(
        tmp_path, "loud.c", SUPPRESSED.replace("ignore[lock-order]", "ignore[lock-leak]")
    )
    run = cli("check", "--no-color", path)
    assert run.code == 1
    assert "[lock-order]" in run.out
