"""LSP positions (line + character in UTF-16 code units, or UTF-8 / UTF-32 when negotiated)
to byte offsets in a document's bytes, and back.

Positions past the end of a line clamp to the line's end and lines past the end of the
document clamp to its end, as the specification asks of servers.
"""

from __future__ import annotations

from lsprotocol import types

from kvmlock.syntax.document import LineStarts, line_starts

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


def _units(text: str, encoding: str) -> int:
    if encoding == UTF16:
        return len(text.encode("utf-16-le")) // 2
    return len(text)


class LineIndex:
    """Line starts of a byte buffer, for converting positions."""

    def __init__(self, data: bytes, starts: LineStarts | None = None) -> None:
        self.data = data
        self.starts = starts if starts is not None else LineStarts(line_starts(data))

    def _line_bytes(self, line: int) -> tuple[int, int]:
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.data)
        if end > start and self.data[end - 1 : end] == b"\r":
            end -= 1
        return start, end

    def offset(self, position: types.Position, encoding: str = UTF16) -> int:
        if position.line < 0:
            return 0
        if position.line >= len(self.starts):
            return len(self.data)
        start, end = self._line_bytes(position.line)
        character = max(0, position.character)
        if encoding == UTF8 or self.data[start:end].isascii():
            return min(start + character, end)  # one unit per byte on an ASCII line
        text = self.data[start:end].decode("utf-8", "replace")
        prefix = text[:character] if encoding == UTF32 else _utf16_prefix(text, character)
        return start + len(prefix.encode("utf-8", "replace"))

    def position(self, offset: int, encoding: str = UTF16) -> types.Position:
        offset = max(0, min(offset, len(self.data)))
        line = self.starts.row(offset)
        start = self.starts[line]
        before = self.data[start:offset]
        if encoding == UTF8 or before.isascii():
            return types.Position(line=line, character=offset - start)
        text = before.decode("utf-8", "replace")
        return types.Position(line=line, character=_units(text, encoding))


def _utf16_prefix(text: str, units: int) -> str:
    count = 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if count + width > units:
            return text[:index]
        count += width
    return text
