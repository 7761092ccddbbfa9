"""Where the data files the engine loads live."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def queries_dir() -> Path:
    # An installed wheel carries the queries inside the package; a source checkout keeps
    # them at the repository root, two levels above this package.
    packaged = Path(__file__).with_name("queries")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "queries"
