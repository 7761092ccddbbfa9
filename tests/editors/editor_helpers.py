"""Helpers of the editor-client tests: real editors and the real `kvmlock serve`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE_TREE = Path(__file__).resolve().parent / "fixtures" / "kernel-tree"


def kvmlock_executable() -> Path:
    """The kvmlock of the interpreter running the tests (the project's venv)."""
    return Path(sys.executable).with_name("kvmlock")


def serve_missing() -> str | None:
    """None when `kvmlock serve` runs here, else the reason the end-to-end tests skip."""
    exe = kvmlock_executable()
    if not exe.exists():
        return f"{exe} not found: install the project into the interpreter running pytest"
    done = subprocess.run(
        [str(exe), "serve", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        return "this kvmlock has no `serve` command (the language server is not installed)"
    return None


def require_serve() -> Path:
    reason = serve_missing()
    if reason:
        pytest.skip(reason)
    return kvmlock_executable()


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (CI installs it: see .ci/run)")
    return path
