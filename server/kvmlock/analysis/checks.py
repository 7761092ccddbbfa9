"""The check registry, loaded from checks.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_REGISTRY = Path(__file__).with_name("checks.toml")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Check:
    id: str
    severity: str
    title: str
    what: str = ""
    why: str = ""
    example: str = ""
    fix: str = ""
    suppress: str = ""


@cache
def registry() -> dict[str, Check]:
    data = tomllib.loads(_REGISTRY.read_text(encoding="utf-8"))
    checks = {}
    for entry in data["check"]:
        check = Check(**entry)
        if check.severity not in SEVERITIES:
            raise ValueError(f"check {check.id}: unknown severity {check.severity!r}")
        checks[check.id] = check
    return checks


def lower(severity: str) -> str:
    """One step less severe: how may-held (some paths only) findings are reported."""
    index = SEVERITIES.index(severity)
    return SEVERITIES[min(index + 1, len(SEVERITIES) - 1)]
