"""The `cli` fixture: the real command line, run in this process."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from cli_helpers import Run

from kvmlock.cli import main


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `kvmlock ARGS...` and capture its exit status, stdout and stderr."""

    def run(*args: str | os.PathLike[str]) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
