"""Rebuild the "after" side of the seed diff from its "before" side.

The seed is a web-scraped unified diff of locking.rst whose scraping collapsed each line's
leading whitespace to at most one space and dropped blank context lines. Its "before" side
is (close to) the Debian 6.1.192 text, so the hunks are replayed onto that file, matching
lines with whitespace normalised and letting blank lines of the original fill the gaps. The
hunk headers' line numbers are checked on the way, so a wrong replay fails loudly instead
of silently shifting every citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
BEFORE = SHARED / "kernel-docs" / "locking-6.1.192-debian.rst"
MAINLINE = SHARED / "kernel-docs" / "locking-mainline-2023.rst"
SEED = SHARED / "seeds" / "000_c6eb137c97a75237.txt"

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: list[str] = field(default_factory=list)


class ReplayError(ValueError):
    pass


def _norm(line: str) -> str:
    return " ".join(line.split())


def parse_hunks(diff: str) -> list[Hunk]:
    hunks: list[Hunk] = []
    for line in diff.split("\n"):
        header = _HUNK.match(line)
        if header:
            old, old_len, new, new_len = header.groups()
            hunks.append(Hunk(int(old), int(old_len or 1), int(new), int(new_len or 1)))
        elif hunks:
            hunks[-1].lines.append(line.rstrip("\r"))
    return hunks


def _replay(hunk: Hunk, before: list[str], start: int) -> tuple[list[str], int]:
    """The hunk's new lines and the index after the last before-line it consumed."""
    out: list[str] = []
    pos = start
    after_context = False  # the previous diff line was context, not an addition
    for line in hunk.lines:
        if line.startswith("+"):
            added = line[1:]
            # A dropped blank context line may belong before an added block: rst needs one
            # between blocks, so take it first when the addition starts a new block.
            starts_block = bool(added.strip()) and not added[0].isspace()
            gap_due = starts_block and after_context and out and out[-1].strip()
            if gap_due and pos < len(before) and not before[pos].strip():
                out.append(before[pos])
                pos += 1
            out.append(added)
            after_context = False
            continue
        after_context = not line.startswith("-")
        while True:
            if pos >= len(before):
                raise ReplayError(f"hunk at -{hunk.old_start} runs past the end: {line!r}")
            original = before[pos]
            if line.startswith("-") and _norm(line[1:]) == _norm(original):
                pos += 1
                break
            if _norm(line) == _norm(original):
                out.append(original)
                pos += 1
                break
            if not original.strip():  # a blank context line the scraper dropped
                out.append(original)
                pos += 1
                continue
            raise ReplayError(f"hunk at -{hunk.old_start}: {line!r} does not match {original!r}")
    return out, pos


def apply_seed(before_text: str, diff: str) -> str:
    before = before_text.split("\n")
    result: list[str] = []
    cursor = 0
    for hunk in parse_hunks(diff):
        start = hunk.old_start - 1
        result.extend(before[cursor:start])
        if len(result) != hunk.new_start - 1:
            raise ReplayError(f"hunk at +{hunk.new_start} would land at line {len(result) + 1}")
        new_lines, cursor = _replay(hunk, before, start)
        if cursor > start + hunk.old_len:
            raise ReplayError(f"hunk at -{hunk.old_start} consumed too many lines")
        result.extend(new_lines)
    result.extend(before[cursor:])
    return "\n".join(result)


def after_text() -> str | None:
    """The reconstructed after side, or None when ../shared is not available."""
    if not (BEFORE.is_file() and SEED.is_file()):
        return None
    return apply_seed(BEFORE.read_text(encoding="utf-8"), SEED.read_text(encoding="utf-8"))
