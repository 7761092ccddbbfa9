"""The package list in pyproject.toml is explicit (queries/ ships as kvmlock.queries); it must
name every subpackage, or an installed kvmlock would miss code."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT / "server").parts)
        for init in (ROOT / "server").rglob("__init__.py")
    }
    assert on_disk <= listed
    assert config["package-dir"]["kvmlock.queries"] == "queries"
    assert (ROOT / "queries" / "lock_api.toml").is_file()
