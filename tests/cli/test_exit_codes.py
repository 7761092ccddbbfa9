"""Exit status: 0 clean, 1 findings, 2 usage or I/O trouble."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import BAD_ORDER, GOOD_ORDER, write_c

from kvmlock import __version__
from kvmlock.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS


def test_clean_file_exits_0(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "good.c", GOOD_ORDER)
    run = cli("check", path)
    assert run.code == EXIT_CLEAN
    assert run.out == ""
    assert "no findings" in run.err


def test_finding_exits_1(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "bad.c", BAD_ORDER)
    run = cli("check", "--no-color", path)
    assert run.code == EXIT_FINDINGS
    assert f"{path}:4:" in run.out
    assert "[lock-order]" in run.out
    assert "1 finding" in run.err


def test_ignored_check_exits_0(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "bad.c", BAD_ORDER)
    assert cli("check", "--ignore", "lock-order", path).code == EXIT_CLEAN


def test_select_other_check_exits_0(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "bad.c", BAD_ORDER)
    assert cli("check", "--select", "double-lock,lock-leak", path).code == EXIT_CLEAN
    assert cli("check", "--select", "lock-order", path).code == EXIT_FINDINGS


def test_unknown_select_id_is_usage_error(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "bad.c", BAD_ORDER)
    run = cli("check", "--select", "lock-order,no-such-check", path)
    assert run.code == EXIT_ERROR
    assert "no-such-check" in run.err
    assert run.out == ""


def test_unknown_ignore_id_is_usage_error(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "good.c", GOOD_ORDER)
    run = cli("check", "--ignore", "bogus", path)
    assert run.code == EXIT_ERROR
    assert "bogus" in run.err


def test_bad_format_is_usage_error(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "good.c", GOOD_ORDER)
    assert cli("check", "--format", "xml", path).code == EXIT_ERROR


def test_missing_path_exits_2_and_still_checks_others(cli, tmp_path: Path) -> None:
    bad = write_c(tmp_path, "bad.c", BAD_ORDER)
    missing = tmp_path / "gone.c"
    run = cli("check", missing, bad)
    assert run.code == EXIT_ERROR
    assert f"{missing}: error:" in run.err
    assert "[lock-order]" in run.out


def test_missing_locking_rst_is_usage_error(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "good.c", GOOD_ORDER)
    run = cli("check", "--locking-rst", tmp_path / "nope.rst", path)
    assert run.code == EXIT_ERROR


def test_unwritable_output_exits_2(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "good.c", GOOD_ORDER)
    run = cli("check", "--output", tmp_path / "no" / "such" / "dir" / "report.txt", path)
    assert run.code == EXIT_ERROR


def test_output_file_receives_report(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "bad.c", BAD_ORDER)
    report = tmp_path / "report.txt"
    run = cli("check", "--output", report, path)
    assert run.code == EXIT_FINDINGS
    assert run.out == ""
    assert "[lock-order]" in report.read_text(encoding="utf-8")
    assert "\033[" not in report.read_text(encoding="utf-8")


def test_version(cli) -> None:
    run = cli("--version")
    assert run.code == EXIT_CLEAN
    assert __version__ in run.out


def test_no_command_is_usage_error(cli) -> None:
    assert cli().code == EXIT_ERROR


def test_check_help_documents_the_exit_status(cli) -> None:
    run = cli("check", "--help")
    assert run.code == EXIT_CLEAN
    assert "exit status:" in run.out
    assert "deleted between discovery and reading" in " ".join(run.out.split())


NOTE_ONLY = """\
int kvm_demo_maybe_locked(struct kvm *kvm, int locked)
{
	if (locked)
		mutex_lock(&kvm->lock);
	if (kvm_demo_busy(kvm))
		return -EBUSY;
	if (locked)
		mutex_unlock(&kvm->lock);
	return 0;
}
"""


def test_notes_alone_exit_0(cli, tmp_path: Path) -> None:
    path = write_c(tmp_path, "note.c", NOTE_ONLY)
    run = cli("check", "--no-color", path)
    assert ": note: " in run.out and "[lock-leak]" in run.out
    assert run.code == EXIT_CLEAN
    (tmp_path / "bad.c").write_text(BAD_ORDER)
    assert cli("check", tmp_path).code == EXIT_FINDINGS
