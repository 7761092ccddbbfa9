"""kvmlock in a real VS Code: code-server with the packed .vsix, driven by Debian's chromium
through playwright-core (editors/vscode/test/code-server/run.mjs). Asserts what a user sees:
the finding in the Problems panel, the lock's locking.rst entry on hover, the status bar.

About 30 s on 2 cores once installed (.ci/run installs code-server from the npm registry and
chromium from Debian). KVMLOCK_E2E_CODE_SERVER=reduced runs the Problems-panel part only;
=0 skips it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from editor_helpers import REPO, kvmlock_executable, require_serve, require_tool

EXT = REPO / "editors" / "vscode"
HARNESS = EXT / "test" / "code-server"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def test_kvmlock_in_code_server(tmp_path: Path) -> None:
    mode = os.environ.get("KVMLOCK_E2E_CODE_SERVER", "full")
    if mode == "0":
        pytest.skip("KVMLOCK_E2E_CODE_SERVER=0")
    node = require_tool("node")
    npm = require_tool("npm")
    require_serve()
    if not (HARNESS / "node_modules" / "code-server" / "out" / "node" / "entry.js").exists():
        pytest.skip("code-server is not installed: FORCE_NODE_VERSION=20 npm ci in "
                    "editors/vscode/test/code-server (.ci/run does)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does)")
    if not (EXT / "node_modules" / ".package-lock.json").exists():
        pytest.skip("editors/vscode has no node_modules: run `npm ci` there (.ci/run does)")
    vsix = EXT / "kvmlock-0.1.0.vsix"
    if not vsix.exists():
        done = subprocess.run([npm, "run", "package"], cwd=EXT, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    artifacts = Path(os.environ.get("KVMLOCK_ARTIFACTS", EXT / "test-artifacts"))
    args = [node, "run.mjs"] + (["--reduced"] if mode == "reduced" else [])
    done = subprocess.run(
        args,
        cwd=HARNESS,
        env=dict(os.environ, KVMLOCK=str(kvmlock_executable()), KVMLOCK_ARTIFACTS=str(artifacts)),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    summary = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
    assert summary and summary.group(2) == "0", out[-3000:]
    expected = 5 if mode == "reduced" else 6
    assert int(summary.group(1)) == expected, out[-3000:]
    assert (artifacts / "code-server-problems.png").stat().st_size > 10_000
    if mode != "reduced":
        assert (artifacts / "code-server-hover.png").stat().st_size > 10_000
