"""Neovim's built-in LSP client (headless, Debian's nvim) against the real `kvmlock serve`,
started through editors/neovim: require('kvmlock').setup() reading lsp/kvmlock.lua."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from editor_helpers import FIXTURE_TREE, REPO, require_serve, require_tool

C_FILE = FIXTURE_TREE / "virt" / "kvm" / "toy_ioctl.c"
RST = FIXTURE_TREE / "Documentation" / "virt" / "kvm" / "locking.rst"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    nvim = require_tool("nvim")
    kvmlock = require_serve()
    out = tmp_path_factory.mktemp("nvim") / "report.json"
    home = tmp_path_factory.mktemp("nvim-home")
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        KVMLOCK=str(kvmlock),
        KVMLOCK_NVIM_PLUGIN=str(REPO / "editors" / "neovim"),
        KVMLOCK_C_FILE=str(C_FILE),
        KVMLOCK_NVIM_REPORT=str(out),
    )
    script = Path(__file__).with_name("neovim_e2e.lua")
    started = time.monotonic()
    done = subprocess.run(
        [nvim, "--headless", "--clean", "-c", f"luafile {script}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert out.exists(), f"nvim wrote no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    data = json.loads(out.read_text())
    data["_seconds"] = time.monotonic() - started
    assert "error" not in data, data["error"]
    return data


def test_client_starts_in_the_kernel_tree(report: dict) -> None:
    assert report["filetype"] == "c"
    assert report["client_name"] == "kvmlock"
    assert Path(report["root_dir"]) == FIXTURE_TREE  # found by Documentation/virt/kvm/locking.rst
    assert report["cmd"][1:3] == ["serve", "--log-level"]
    # settings from setup() reach the init options, over the defaults of lsp/kvmlock.lua
    assert report["init_options"] == {
        "lockingRst": "",
        "checks": {},
        "debounceMs": 50,
        "inlayHints": False,
        "logLevel": "info",
        "interprocedural": True,
        "indexMaxFiles": 3000,
        "maxFileBytes": 3000000,
    }


def test_diagnostics_have_check_ids_and_lines(report: dict) -> None:
    assert report["diagnostics_arrived"], report["diagnostics"]
    found = sorted((d["code"], d["lnum"] + 1, d["severity"]) for d in report["diagnostics"])
    # vim.diagnostic severities: 1 error, 2 warning
    assert found == [("lock-leak", 21, 2), ("lock-order", 10, 1)]
    assert {d["source"] for d in report["diagnostics"]} == {"kvmlock"}
    order = next(d for d in report["diagnostics"] if d["code"] == "lock-order")
    assert "mutex_lock(&kvm->lock) while holding kvm->slots_lock" in order["message"]
    assert "locking.rst line 13" in order["message"]


def test_hover_over_the_lock_shows_its_locking_rst_entry(report: dict) -> None:
    hover = report.get("hover")
    assert hover, report.get("hover_error")
    assert "kvm->lock" in hover
    assert "the toy VM's creation state" in hover  # :Protects: of the fixture's entry
    assert "The outermost per-VM mutex of this toy tree." in hover  # its :Comment:
    assert RST.as_uri() in hover


def test_status_notification_is_kept_for_statuslines(report: dict) -> None:
    status = report["status"]
    assert status["state"] in ("ready", "analysing")
    assert isinstance(status["builtin"], bool) and status["rulesSource"]


def test_commands_locking_rst_and_rule_base(report: dict) -> None:
    assert report["location"] == {"uri": RST.as_uri(), "builtin": False, "source": str(RST)}
    assert report["rule_base_filetype"] == "markdown"
    assert "kvm->lock is taken outside kvm->slots_lock" in report["rule_base"]


def test_lsp_kvmlock_lua_is_a_neovim_011_config() -> None:
    """The 0.11 file's shape, read by the same Neovim (as vim.lsp.config would load it)."""
    nvim = require_tool("nvim")
    lua = (
        "local c = dofile(os.getenv('F')); "
        "io.stdout:write(vim.fn.json_encode({cmd = c.cmd, filetypes = c.filetypes, "
        "root_markers = c.root_markers, root_dir = type(c.root_dir), "
        "settings = c.settings, handler = type(c.handlers['kvmlock/status'])}))"
    )
    done = subprocess.run(
        [nvim, "--headless", "--clean", "-c", f"lua {lua}", "-c", "qall!"],
        env=dict(os.environ, F=str(REPO / "editors" / "neovim" / "lsp" / "kvmlock.lua")),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    data = json.loads(done.stdout + done.stderr)
    assert data["cmd"] == ["kvmlock", "serve"]
    assert data["filetypes"] == ["c", "rst"]
    assert data["root_markers"] == ["Documentation/virt/kvm/locking.rst", ".git"]
    assert data["root_dir"] == "function"
    assert data["handler"] == "function"
    assert set(data["settings"]["kvmlock"]) == {
        "lockingRst", "checks", "debounceMs", "inlayHints", "logLevel",
        "interprocedural", "indexMaxFiles", "maxFileBytes",
    }  # fmt: skip


def test_root_dir_finds_the_kernel_tree_else_git_else_the_folder(tmp_path: Path) -> None:
    nvim = require_tool("nvim")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    (tmp_path / "loose").mkdir()
    lua = (
        "local c = dofile(os.getenv('F')); local out = {}; "
        "for _, f in ipairs(vim.split(os.getenv('FILES'), ';')) do "
        "  local b = vim.fn.bufadd(f); vim.fn.bufload(b); local got = vim.NIL; "
        "  c.root_dir(b, function(d) got = d end); table.insert(out, got) end; "
        "io.stdout:write(vim.fn.json_encode(out))"
    )
    files = [
        C_FILE,
        tmp_path / "repo" / "sub" / "a.c",
        tmp_path / "loose" / "b.c",
        RST,
        tmp_path / "repo" / "notes.rst",
    ]
    done = subprocess.run(
        [nvim, "--headless", "--clean", "-c", "filetype on", "-c", f"lua {lua}", "-c", "qall!"],
        env=dict(
            os.environ,
            F=str(REPO / "editors" / "neovim" / "lsp" / "kvmlock.lua"),
            FILES=";".join(str(f) for f in files),
        ),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    roots = json.loads(done.stdout + done.stderr)
    assert roots == [
        str(FIXTURE_TREE),
        str(tmp_path / "repo"),
        str(tmp_path / "loose"),
        str(FIXTURE_TREE),
        None,  # an rst file that is not a locking.rst does not start kvmlock
    ]
