"""Entries of locking.rst's "Reference" section: a ``lock`` heading and a field list.

Field values continue on indented lines (tabs or spaces, depending on the kernel version);
`:Protects:` is often a "- item" list. Values are flattened to one line each so that messages
and the `kvmlock rules` listing can show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .classes import canonical
from .model import Citation, LockInfo
from .rst_text import inline_text, is_adornment

_FIELD = re.compile(r"^:(?P<name>[A-Za-z][\w ]*):(?:\s+(?P<value>.*))?$")
_ITEM = re.compile(r"^-\s*")
_KNOWN = {"type": "type", "arch": "arch_field", "protects": "protects", "comment": "comment"}


@dataclass
class _Entry:
    name: str
    citation: Citation
    fields: dict[str, list[str]] = field(default_factory=dict)


def entry_name(title: str) -> str | None:
    """The lock named by a Reference heading, or None when the heading is not an entry."""
    raw = title.strip()
    if raw.startswith("``") and raw.endswith("``") and len(raw) > 4:
        return raw[2:-2].strip()
    return None


def read_entry(name: str, citation: Citation, body: list[str], problems: list[str]) -> LockInfo:
    """One Reference entry; `body` is the lines between its underline and the next heading."""
    entry = _Entry(name=canonical(name), citation=citation)
    current: list[str] | None = None
    for raw in body:
        if not raw.strip() or is_adornment(raw):
            continue
        found = _FIELD.match(raw)
        if found:
            key = found["name"].strip().lower()
            current = entry.fields.setdefault(key, [])
            if found["value"] and found["value"].strip():
                current.append(found["value"].strip())
            continue
        if current is not None and raw[0].isspace():
            current.append(raw.strip())
            continue
        problems.append(
            f"line {citation.line}: text in the {name} reference entry is not a field: "
            f"{raw.strip()[:60]!r}"
        )
    values = {attr: _flatten(entry.fields.get(key, [])) for key, attr in _KNOWN.items()}
    extras = [f"{k}: {_flatten(v)}" for k, v in entry.fields.items() if k not in _KNOWN]
    if extras:
        values["comment"] = " ".join(filter(None, [values["comment"], *extras]))
    if not values["type"]:
        problems.append(f"line {citation.line}: reference entry {name} states no :Type:")
    return LockInfo(citation=citation, arch=None, name=entry.name, **values)


def _flatten(lines: list[str]) -> str:
    """One line per value: list items joined with "; ", wrapped lines with spaces."""
    if not lines:
        return ""
    if not _ITEM.match(lines[0]):
        return inline_text(" ".join(lines))
    items: list[list[str]] = []
    for line in lines:
        if _ITEM.match(line) or not items:
            items.append([_ITEM.sub("", line, count=1)])
        else:
            items[-1].append(line)
    return "; ".join(inline_text(" ".join(item)) for item in items)
