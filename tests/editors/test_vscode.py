"""The VS Code extension's own test suite (editors/vscode, `npm test`), run from pytest.

`npm test` type-checks (tsc, strict), lints (eslint with typescript-eslint), bundles with
esbuild, packs the .vsix with @vscode/vsce and runs node:test suites: unit tests of server
resolution, settings mapping and status text; an end-to-end test of the real `kvmlock serve`
over vscode-languageserver-protocol; and a check of the .vsix contents.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from editor_helpers import REPO, kvmlock_executable, require_tool, serve_missing

EXT = REPO / "editors" / "vscode"


def test_npm_test_passes() -> None:
    require_tool("node")
    npm = require_tool("npm")
    if not (EXT / "node_modules" / ".package-lock.json").exists():
        pytest.skip("editors/vscode has no node_modules: run `npm ci` there (.ci/run does)")
    env = dict(os.environ, KVMLOCK=str(kvmlock_executable()))
    done = subprocess.run(
        [npm, "test"], cwd=EXT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-8000:]
    # node:test's summary: nothing failed, and the end-to-end suite really ran when it can.
    assert re.search(r"^# fail 0$", out, re.M), out[-4000:]
    skipped = int(re.search(r"^# skipped (\d+)$", out, re.M).group(1))
    if serve_missing() is None:
        assert skipped == 0, f"kvmlock serve is there but {skipped} tests skipped:\n{out[-4000:]}"
    assert (EXT / "kvmlock-0.1.0.vsix").exists()
