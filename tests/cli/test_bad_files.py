"""Files that cannot be checked are reported with their path; the rest are still checked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import BAD_ORDER, write_c

from kvmlock.cli import EXIT_ERROR


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
