"""Start-up: `initialize` is answered without the analysis, the rule reader or the workspace
index loaded (they are imported on first use); see benchmarks/startup.py for the times."""

from __future__ import annotations

import subprocess
import sys

# Imported by the server only once there is something to analyse.
DEFERRED = (
    "kvmlock.analysis.engine",
    "kvmlock.analysis.lookup",
    "kvmlock.interproc.workspace",
    "kvmlock.lsp.documents",
    "kvmlock.lsp.explain",
    "kvmlock.lsp.rules_state",
    "kvmlock.lsp.workspace_index",
    "kvmlock.rules.shapes",
    "kvmlock.syntax.rewrite",
    "tree_sitter",
)


def test_the_server_module_imports_without_the_analysis():
    code = "import sys, kvmlock.lsp.server; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "kvmlock.lsp.server" in loaded
    assert sorted(loaded & set(DEFERRED)) == []
