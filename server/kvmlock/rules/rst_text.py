"""The little of reStructuredText that locking.rst uses: headings, paragraphs, bullets, fields.

The reader must survive anything (a half-saved file in an editor, binary noise), so every
function here is total: odd input gives odd blocks, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ADORNMENT = re.compile(r"^([=\-^~`'\"#*+_:.])\1{2,}\s*$")
_BULLET = re.compile(r"^[-*+]\s+")
_LITERAL = re.compile(r"``(.{0,200}?)``")
# Emphasis markers only where they wrap a word: `slots_lock` keeps its underscores.
# Bounded span: an unclosed marker must not make each later marker rescan the whole line.
_EMPHASIS = re.compile(r"(?<![\w*])([_*])(?=\S)(.{1,80}?)(?<=\S)\1(?![\w*])")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Heading:
    line: int  # 1-based line of the title text
    title: str  # plain text, markup removed
    raw: str  # as written: Reference entries are recognised by their ``literal`` title
    underline: str  # the adornment character


@dataclass(frozen=True)
class Block:
    """A paragraph or a whole bullet item (continuation lines and nested paragraphs joined)."""

    line: int  # 1-based line of the block's first line
    lines: tuple[str, ...]
    bullet: bool

    def text(self) -> str:
        return inline_text(" ".join(self.lines))


def split_lines(text: str) -> list[str]:
    # Not str.splitlines(): it also breaks on form feeds and other controls, which would shift
    # every later line number away from what an editor shows.
    return [line.rstrip("\r") for line in text.split("\n")]


def inline_text(text: str) -> str:
    """Plain text of an inline run: literals and emphasis unwrapped, whitespace collapsed."""
    text = _LITERAL.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return _SPACES.sub(" ", text).strip()


def is_adornment(line: str) -> bool:
    return bool(_ADORNMENT.match(line))


def heading_at(lines: list[str], index: int) -> Heading | None:
    """The heading whose title is lines[index], when the next line underlines it."""
    if index + 1 >= len(lines):
        return None
    title, under = lines[index], lines[index + 1]
    if not title.strip() or title[0].isspace() or is_adornment(title) or not is_adornment(under):
        return None
    return Heading(index + 1, inline_text(title), title.strip(), under.strip()[0])


def blocks(lines: list[str], first_line: int) -> list[Block]:
    """Paragraphs and bullet items of a heading-free run of lines starting at `first_line`.

    An indented paragraph after a blank line belongs to the bullet above it (rst nesting); a
    literal block introduced by `::` is code, not prose, so it is dropped.
    """
    result: list[Block] = []
    current: list[str] = []
    start = 0
    bullet = False
    gap = False  # a blank line since the last text line
    literal = False  # inside (or just announced) a `::` literal block

    def close() -> None:
        if current:
            tidy = tuple(line[:-1] if line.endswith("::") else line for line in current)
            result.append(Block(line=start, lines=tidy, bullet=bullet))

    for offset, raw in enumerate(lines):
        if is_adornment(raw):
            continue
        if not raw.strip():
            gap = True
            literal = literal or bool(current and current[-1].endswith("::"))
            continue
        indented = raw[0].isspace()
        if literal and indented:
            continue
        literal = False
        new_bullet = bool(_BULLET.match(raw)) and not indented
        if bullet:  # nested paragraphs indent; a lazy continuation line follows directly
            continues = bool(current) and (indented or (not gap and not new_bullet))
        else:
            continues = bool(current) and not gap and not new_bullet
        gap = False
        if continues:
            current.append(raw.strip())
            continue
        close()
        current = [_BULLET.sub("", raw, count=1).strip() if new_bullet else raw.strip()]
        start = first_line + offset
        bullet = new_bullet
    close()
    return result
