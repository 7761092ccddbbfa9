"""Read Documentation/virt/kvm/locking.rst into a RuleBase.

The document has three numbered sections. "Acquisition Orders" holds the rules, one bullet
each, grouped under paragraph headers such as "On x86:" that scope the bullets below them to
one architecture. "Exception" is explanation only. "Reference" describes each lock with a
field list. Sentences become facts through the table in `shapes.py`; entries through
`reference.py`.

The reader never raises: the language server calls it on whatever an editor holds, so every
difficulty becomes a line in `RuleBase.problems` and every rule-like sentence it cannot read
becomes an `Unrecognised` entry, listed by `kvmlock rules` rather than silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .model import Citation, LeafRule, Rule, RuleBase, Unrecognised
from .reference import entry_name, read_entry
from .rst_text import Block, Heading, blocks, heading_at, split_lines
from .shapes import mentions_lock, read_sentence

_ARCH_HEADER = re.compile(r"^on\s+(?P<arch>[\w-]+)\s*:$", re.IGNORECASE)
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


@dataclass
class _Segment:
    heading: Heading | None
    first_line: int  # 1-based line of body[0]
    body: list[str]


@dataclass
class _State:
    document: str
    rules: list[Rule] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    section: str = ""
    mode: str = "none"
    seen_orders: bool = False
    entries: set[str] = field(default_factory=set)

    def cite(self, line: int) -> Citation:
        return Citation(self.document, line, self.section or "(no section)")


def read_locking_rst(text: str, document: str) -> RuleBase:
    """The rules `text` (a locking.rst) states; `document` names it in every citation."""
    state = _State(document=document)
    try:
        _read(text, state)
    except Exception as err:  # a reader bug must not take the checker down with it
        state.problems.append(f"reader stopped early ({type(err).__name__}: {err})")
    return RuleBase(
        source=document,
        builtin=False,
        rules=state.rules,
        unrecognised=state.unrecognised,
        problems=state.problems,
    )


def load_locking_rst(path: Path) -> RuleBase:
    """Read a locking.rst from disk; unreadable or undecodable files give problems, not errors."""
    document = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        return RuleBase(source=document, builtin=False, problems=[f"cannot read {path}: {err}"])
    try:
        text = data.decode("utf-8")
        decode_problem = None
    except UnicodeDecodeError as err:
        text = data.decode("utf-8", errors="replace")
        decode_problem = f"{path} is not valid UTF-8 ({err.reason} at byte {err.start})"
    rb = read_locking_rst(text, document)
    if decode_problem:
        rb.problems.insert(0, decode_problem)
    return rb


def _read(text: str, state: _State) -> None:
    text = text.removeprefix("\ufeff")  # editors on some systems save a BOM
    if not text.strip():
        state.problems.append("the document is empty")
        return
    unreadable = len(_UNREADABLE.findall(text))
    if unreadable:
        state.problems.append(
            f"{unreadable} undecodable or control characters; is this really locking.rst?"
        )
    for segment in _segments(split_lines(text)):
        _read_segment(segment, state)
    if not state.seen_orders:
        state.problems.append('no "Acquisition Orders" section found, so no order rules')
    elif not any(not isinstance(r, LeafRule) for r in state.rules):
        state.problems.append("no rule sentence was recognised")


def _segments(lines: list[str]) -> list[_Segment]:
    """The document cut at headings; the first segment (preamble) has no heading."""
    segments = [_Segment(None, 1, [])]
    index = 0
    while index < len(lines):
        heading = heading_at(lines, index)
        if heading is None:
            segments[-1].body.append(lines[index])
            index += 1
            continue
        segments.append(_Segment(heading, index + 3, []))
        index += 2
    return segments


def _mode(title: str) -> str:
    lowered = title.lower()
    if "acquisition" in lowered or "order" in lowered:
        return "orders"
    if "reference" in lowered:
        return "reference"
    return "prose"  # overview, exceptions, anything a later kernel adds: explanation only


def _read_segment(segment: _Segment, state: _State) -> None:
    heading = segment.heading
    if heading is None:
        return
    name = entry_name(heading.raw) if state.mode == "reference" else None
    if name is None:
        state.section, state.mode = heading.title, _mode(heading.title)
        state.seen_orders = state.seen_orders or state.mode == "orders"
        if state.mode == "orders":
            _read_orders(blocks(segment.body, segment.first_line), state)
        return
    info = read_entry(name, state.cite(heading.line), segment.body, state.problems)
    if info.name in state.entries:
        state.problems.append(f"line {heading.line}: {name} is described twice in the Reference")
    state.entries.add(info.name)
    state.rules.append(info)


def _read_orders(items: list[Block], state: _State) -> None:
    arch: str | None = None
    for block in items:
        text = block.text()
        if not block.bullet:
            header = _ARCH_HEADER.match(text)
            arch = header["arch"].lower() if header else None
            if text.endswith(":"):
                continue  # "On x86:", "For SRCU:", the section's lead-in
        reading = read_sentence(text)
        citation = state.cite(block.line)
        rule_arch = arch if block.bullet else None
        for kind, values in reading.facts:
            state.rules.append(kind(citation=citation, arch=rule_arch, **values))
        if not reading.understood and (block.bullet or mentions_lock(text)):
            state.unrecognised.append(Unrecognised(text=text, citation=citation))
