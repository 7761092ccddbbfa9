"""The server's settings, as editors send them (initializationOptions, didChangeConfiguration).

Structured with cattrs from the client's JSON; a value of the wrong type is reported and the
default kept, so a typo in one setting never disables the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import cattrs
from cattrs.gen import make_dict_structure_fn, override

from kvmlock.analysis.checks import registry

LSP_SEVERITIES = ("error", "warning", "information", "hint")


@dataclass
class CheckSetting:
    enabled: bool = True
    severity: str | None = None


@dataclass
class Settings:
    locking_rst: str = ""
    checks: dict[str, CheckSetting] = field(default_factory=dict)
    debounce_ms: int = 150
    inlay_hints: bool = False
    log_level: str = "info"
    interprocedural: bool = True
    index_max_files: int = 3000
    max_file_bytes: int = 3_000_000

    def enabled_checks(self) -> frozenset[str]:
        return frozenset(
            check for check in registry() if self.checks.get(check, CheckSetting()).enabled
        )

    def severity_for(self, check: str, default: str) -> str:
        chosen = self.checks.get(check)
        if chosen is not None and chosen.severity in LSP_SEVERITIES:
            return chosen.severity
        return default


_JSON_NAMES = {
    "locking_rst": "lockingRst",
    "debounce_ms": "debounceMs",
    "inlay_hints": "inlayHints",
    "log_level": "logLevel",
    "index_max_files": "indexMaxFiles",
    "max_file_bytes": "maxFileBytes",
}
_converter = cattrs.Converter()
_converter.register_structure_hook(
    Settings,
    make_dict_structure_fn(
        Settings, _converter, **{k: override(rename=v) for k, v in _JSON_NAMES.items()}
    ),
)


def parse_settings(raw: Any, previous: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from client JSON. Unknown keys are ignored; bad values keep the previous or
    default value and are reported in the returned problems."""
    base = previous or Settings()
    if raw is None:
        return base, []
    if isinstance(raw, dict) and isinstance(raw.get("kvmlock"), dict):
        raw = raw["kvmlock"]
    if not isinstance(raw, dict):
        return base, [f"settings must be an object, got {type(raw).__name__}"]
    problems: list[str] = []
    values: dict[str, Any] = {}
    for item in fields(Settings):
        name = _JSON_NAMES.get(item.name, item.name)
        if name not in raw:
            values[item.name] = getattr(base, item.name)
            continue
        try:
            single = _converter.structure({name: raw[name]}, Settings)
            values[item.name] = getattr(single, item.name)
        except Exception as exc:  # cattrs raises its own exception groups
            problems.append(f"setting {name!r}: {raw[name]!r} is not valid ({_reason(exc)})")
            values[item.name] = getattr(base, item.name)
    unknown = set(values["checks"]) - set(registry())
    if unknown:
        problems.append(f"unknown check ids in 'checks': {', '.join(sorted(unknown))}")
    return Settings(**values), problems


def _reason(exc: Exception) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return _reason(inner[0])
    return str(exc) or type(exc).__name__
