"""Files that cannot be checked are reported with their path; the rest are still checked.
Exit status 2 only when something of the tree went unchecked (see cli.EXIT_STATUS_HELP);
symbolic link loops back up the tree, special files and files deleted during the run are
warnings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import BAD_ORDER, GOOD_ORDER, write_c

from kvmlock import cli as cli_module
from kvmlock.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS


def _assert_reported_and_rest_checked(cli, tmp_path: Path, broken: Path, why: str) -> None:
    good = write_c(tmp_path, "bad_order.c", BAD_ORDER)
    run = cli("check", "--no-color", tmp_path)
    assert run.code == EXIT_ERROR
    lines = [line for line in run.err.splitlines() if line.startswith(f"{broken}: error:")]
    assert lines, run.err
    assert why in lines[0]
    assert f"{good}:4:" in run.out  # the readable file still got its finding


def test_unreadable_file(cli, tmp_path: Path) -> None:
    broken = write_c(tmp_path, "locked.c", BAD_ORDER)
    broken.chmod(0)
    try:
        if os.access(broken, os.R_OK):
            pytest.skip("running as a user who can read a mode-000 file (root)")
        _assert_reported_and_rest_checked(cli, tmp_path, broken, "ermission")
    finally:
        broken.chmod(0o644)


def test_non_utf8_file(cli, tmp_path: Path) -> None:
    broken = tmp_path / "latin1.c"
    broken.write_bytes("/* caf\xe9 */\nint x;\n".encode("latin-1"))
    _assert_reported_and_rest_checked(cli, tmp_path, broken, "UTF-8")


def test_binary_file(cli, tmp_path: Path) -> None:
    broken = tmp_path / "object.c"
    broken.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    _assert_reported_and_rest_checked(cli, tmp_path, broken, "binary")


def test_bad_file_in_json_mode_keeps_stdout_parseable(cli, tmp_path: Path) -> None:
    import json

    (tmp_path / "latin1.c").write_bytes(b"/* \xff */\n")
    write_c(tmp_path, "bad_order.c", BAD_ORDER)
    run = cli("check", "--format", "json", tmp_path)
    assert run.code == EXIT_ERROR
    data = json.loads(run.out)
    assert [f["rule"] for f in data["findings"]] == ["lock-order"]


def test_dangling_symlink_is_reported_even_as_root(cli, tmp_path: Path) -> None:
    # mode 000 does not stop root; a link to nowhere cannot be opened by anyone.
    broken = tmp_path / "dangling.c"
    broken.symlink_to(tmp_path / "missing-target.c")
    _assert_reported_and_rest_checked(cli, tmp_path, broken, "No such file")


# --- symbolic link loops ---------------------------------------------------------------------


def test_directory_link_to_an_ancestor_is_a_warning(cli, tmp_path: Path) -> None:
    good = write_c(tmp_path, "kvm/bad_order.c", BAD_ORDER)
    loop = tmp_path / "kvm" / "up"
    loop.symlink_to(tmp_path, target_is_directory=True)
    run = cli("check", "--no-color", tmp_path)
    assert run.code == EXIT_FINDINGS  # nothing went unchecked: not an error
    assert f"{loop}: warning: symbolic link loop" in run.err
    assert run.out.count(f"{good}:4:") == 1  # its file checked once, not once per lap
    assert "1 file" in run.err.splitlines()[-1]


def test_file_link_cycle_is_an_error_and_the_rest_is_checked(cli, tmp_path: Path) -> None:
    # a.c -> b.c -> a.c: two names of the tree that cannot be read, like a dangling link.
    (tmp_path / "a.c").symlink_to(tmp_path / "b.c")
    (tmp_path / "b.c").symlink_to(tmp_path / "a.c")
    _assert_reported_and_rest_checked(cli, tmp_path, tmp_path / "a.c", "symbolic links")
    run = cli("check", "--no-color", tmp_path)
    assert f"{tmp_path / 'b.c'}: error:" in run.err


def test_link_cycle_not_named_as_source_is_a_warning(cli, tmp_path: Path) -> None:
    # It could have been a directory; it cannot hold anything, so nothing is lost.
    (tmp_path / "x").symlink_to(tmp_path / "y")
    (tmp_path / "y").symlink_to(tmp_path / "x")
    write_c(tmp_path, "bad_order.c", BAD_ORDER)
    run = cli("check", "--no-color", tmp_path)
    assert run.code == EXIT_FINDINGS
    assert f"{tmp_path / 'x'}: warning:" in run.err
    assert f"{tmp_path / 'y'}: warning:" in run.err


def test_link_cycle_named_on_the_command_line_is_an_error(cli, tmp_path: Path) -> None:
    (tmp_path / "a.c").symlink_to(tmp_path / "b.c")
    (tmp_path / "b.c").symlink_to(tmp_path / "a.c")
    good = write_c(tmp_path, "bad_order.c", BAD_ORDER)
    run = cli("check", "--no-color", tmp_path / "a.c", good)
    assert run.code == EXIT_ERROR
    assert f"{tmp_path / 'a.c'}: error: Too many levels of symbolic links" in run.err
    assert f"{good}:4:" in run.out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_named_c_is_a_warning_not_a_hang(cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.c"
    os.mkfifo(fifo)
    write_c(tmp_path, "bad_order.c", BAD_ORDER)
    run = cli("check", "--no-color", tmp_path)  # opening the FIFO would block forever
    assert run.code == EXIT_FINDINGS
    assert f"{fifo}: warning: not a regular file" in run.err


# --- a file deleted during the run -----------------------------------------------------------

CALLEE = """\
void kvm_take_vm_lock(struct kvm *kvm)
{
	mutex_lock(&kvm->lock);
	mutex_unlock(&kvm->lock);
}
"""

CALLER = """\
void kvm_under_slots(struct kvm *kvm)
{
	mutex_lock(&kvm->slots_lock);
	kvm_take_vm_lock(kvm);
	mutex_unlock(&kvm->slots_lock);
}
"""


def _delete_after_discovery(monkeypatch, victim: Path) -> None:
    """The real discovery, then the file goes: the workers (forked after discovery with
    -j 2) find nothing where discovery saw a file."""
    discover = cli_module.collect_files

    def discover_then_delete(*args, **kwargs):
        files = discover(*args, **kwargs)
        assert str(victim) in files
        victim.unlink()
        return files

    monkeypatch.setattr(cli_module, "collect_files", discover_then_delete)


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("interprocedural", [True, False], ids=["calls", "no-calls"])
def test_file_deleted_after_discovery(
    cli, monkeypatch, tmp_path: Path, jobs: str, interprocedural: bool
) -> None:
    good = write_c(tmp_path, "bad_order.c", BAD_ORDER)
    victim = write_c(tmp_path, "gone.c", GOOD_ORDER)
    for n in range(4):  # enough files for both workers to get some
        write_c(tmp_path, f"other{n}.c", GOOD_ORDER.replace("kvm_good_order", f"f{n}"))
    _delete_after_discovery(monkeypatch, victim)
    flags = [] if interprocedural else ["--no-interprocedural"]
    run = cli("check", "--no-color", "-j", jobs, *flags, tmp_path)
    assert run.code == EXIT_FINDINGS  # the tree as it now is was checked completely
    assert f"{victim}: warning: deleted during the run, not checked" in run.err
    assert f"{good}:4:" in run.out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_deleted_callee_file_leaves_no_stale_finding_through_calls(
    cli, monkeypatch, tmp_path: Path, jobs: str
) -> None:
    caller = write_c(tmp_path, "caller.c", CALLER)
    callee = write_c(tmp_path, "callee.c", CALLEE)
    # Both files there: the order mistake is found through the call.
    assert f"{caller}:4:" in cli("check", "--no-color", "-j", jobs, tmp_path).out
    _delete_after_discovery(monkeypatch, callee)
    run = cli("check", "--no-color", "-j", jobs, tmp_path)
    assert run.code == EXIT_CLEAN
    assert f"{callee}: warning: deleted during the run" in run.err
    assert run.out == ""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_suppression_through_calls_holds_when_file_goes_after_reading(
    cli, monkeypatch, tmp_path: Path, jobs: str
) -> None:
    # The parent applies `// kvmlock: ignore[...]` to findings through calls as the worker
    # read the file, not by reading it again: deleting it after the workers ran changes
    # nothing.
    caller = write_c(
        tmp_path,
        "caller.c",
        CALLER.replace(
            "kvm_take_vm_lock(kvm);", "kvm_take_vm_lock(kvm); // kvmlock: ignore[lock-order]"
        ),
    )
    write_c(tmp_path, "callee.c", CALLEE)
    run_jobs = cli_module._Workers.run

    def run_then_delete(*args, **kwargs):
        results = list(run_jobs(*args, **kwargs))
        if caller.exists():
            caller.unlink()
        return iter(results)

    monkeypatch.setattr(cli_module._Workers, "run", run_then_delete)
    run = cli("check", "--no-color", "-j", jobs, tmp_path)
    assert run.code == EXIT_CLEAN, run.out
    assert run.out == ""


def test_sarif_lists_warnings_and_errors_as_notifications(cli, tmp_path: Path) -> None:
    import json

    (tmp_path / "kvm").mkdir()
    (tmp_path / "kvm" / "up").symlink_to(tmp_path, target_is_directory=True)
    write_c(tmp_path, "bad_order.c", BAD_ORDER)
    run = cli("check", "--format", "sarif", tmp_path)
    invocation = json.loads(run.out)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    levels = [n["level"] for n in invocation["toolExecutionNotifications"]]
    assert levels == ["warning"]
    (tmp_path / "latin1.c").write_bytes(b"/* \xff */\n")
    run = cli("check", "--format", "sarif", tmp_path)
    invocation = json.loads(run.out)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    levels = [n["level"] for n in invocation["toolExecutionNotifications"]]
    assert levels == ["error", "warning"]
