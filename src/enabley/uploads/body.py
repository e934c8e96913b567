"""The upload's JSON body, read from a file a block at a time.

The body is ``{"files": [{"fileName": ..., "content": "<CSV text>"}, ...]}`` and nearly all of
it is the files' text, so holding it whole (and again as decoded text) cost two to three times
its size per upload. ``read_request`` reads it as a stream instead: each file's content is
decoded, a block at a time, into a temporary file of decoded text (``Contents``); what is left,
the structure and the names with a placeholder for each content, is small and is validated by
the request's own model. A body is thus accepted or refused in the same words as when Pydantic
parsed it whole: a syntax error is worded and placed (line, and column in bytes) as Pydantic's
JSON parser words and places it, so the error of a malformed body is the one it always was.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import IO, Any

from enabley.uploads.schemas import ExternalOrgBulkUploadRequest

BLOCK = 256 * 1024
"""Bytes read from the body at a time, and the most of a string decoded at once."""
MAX_FILES = 100
"""Entries of ``files`` an upload may list: two are meaningful, and the skeleton of the body that
is validated grows with them."""
MAX_NAME = 1000
"""Characters of a file name kept: no file name is that long, the rest is left out."""
RECURSION_LIMIT = 200
"""Nesting at which Pydantic's JSON parser gives up: a value inside more containers is refused."""
MAX_INT_DIGITS = 4300
"""Digits of an integer Pydantic's JSON parser reads (as Python's int does by default)."""

_WHITESPACE = re.compile(rb"[ \t\n\r]*")
_DIGITS = re.compile(rb"[0-9]*")
_SIMPLE_ESCAPES = frozenset(b'"\\/bfnrt')
_HEX = frozenset(b"0123456789abcdefABCDEF")
_TAIL = 12
_HIGH_SURROGATES = (b"d8", b"d9", b"da", b"db")
"""Bytes kept back from a block's end: room for a surrogate pair's two escapes."""
_FIRST_SEGMENT = 64
"""Bytes of a string decoded first: most strings are short, a file's content grows to ``BLOCK``."""
_MAX_SEGMENT = BLOCK
_LITERALS: dict[int, tuple[bytes, Any]] = {
    0x74: (b"true", True),
    0x66: (b"false", False),
    0x6E: (b"null", None),
    0x4E: (b"NaN", 0),
    0x49: (b"Infinity", 0),
}
"""A literal by its first byte, and its skeleton (NaN and Infinity are numbers)."""

# Where a value sits in the request, which decides what of it is kept.
_ROOT, _FILES, _FILE, _NAME, _CONTENT, _IGNORED = range(6)
_FILE_KEYS = {"fileName": _NAME, "file_name": _NAME, "content": _CONTENT}


class MalformedJson(ValueError):
    """A syntax error of the body, worded as Pydantic's JSON parser words it (``str()``)."""


class TooManyFiles(ValueError):
    """``files`` lists more than ``MAX_FILES`` entries (``str()`` says how many)."""


class _SyntaxError(Exception):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.message, self.index = message, index


class Text:
    """One file's decoded text in ``Contents``."""

    def __init__(self, contents: Contents, start: int, size: int) -> None:
        self.contents, self.start, self.size = contents, start, size

    def open(self) -> IO[str]:
        """The text as a stream of lines ending in ``\\n`` (a lone ``\\r`` ends no line)."""
        raw = _Region(self.contents.file.fileno(), self.start, self.start + self.size)
        return io.TextIOWrapper(io.BufferedReader(raw, 64 * 1024), encoding="utf-8", newline="\n")


class Contents:
    """A temporary file holding the decoded text of every file of one upload, one after another."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.size += len(data)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Contents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Region(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file, read at their offsets: readers don't share a position."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        super().__init__()
        self.fd, self.position, self.end = fd, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.end - self.position)
        if wanted <= 0:
            return 0
        data = os.pread(self.fd, wanted, self.position)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def read_request(source: IO[bytes], contents: Contents, *, block: int = BLOCK) -> list[tuple[str, Text]]:
    """The request's files as (file name, text) pairs, the body (``source``, from its start)
    validated as ``ExternalOrgBulkUploadRequest`` would validate it; the texts are written to
    ``contents``. Raises ``MalformedJson``, ``TooManyFiles`` or the model's ``ValidationError``."""
    reader = _Reader(source, contents, block)
    try:
        skeleton = reader.parse()
    except _SyntaxError as exc:
        raise MalformedJson(f"{exc.message} at {_line_column(source, exc.index, block)}") from None
    if reader.files > MAX_FILES:
        raise TooManyFiles(f"Invalid value for 'files': at most {MAX_FILES} files, not {reader.files}")
    contents.file.flush()
    request = ExternalOrgBulkUploadRequest.model_validate_json(json.dumps(skeleton))
    return [(f.file_name, reader.texts[int(f.content[1:])]) for f in request.files]


def _line_column(source: IO[bytes], index: int, block: int) -> str:
    """Where byte ``index`` is: lines are counted by ``\\n`` and columns in bytes, from 1 (a
    newline itself being column 0 of the line it starts)."""
    line, last_newline, offset = 1, -1, 0
    source.seek(0)
    while offset <= index:
        data = source.read(min(block, index + 1 - offset))
        if not data:
            break
        if newlines := data.count(b"\n"):
            line += newlines
            last_newline = offset + data.rindex(b"\n")
        offset += len(data)
    return f"line {line} column {index - last_newline}"


def _decoded_size(raw: bytes) -> int:
    """Bytes of UTF-8 that string text (valid, between escapes) decodes to."""
    decoded: str = scanstring(raw.decode() + '"', 0, True)[0]
    return len(decoded.encode())


def _safe_cut(buf: bytes, start: int, end: int) -> int:
    """The last position at or before ``end`` where the string text from ``start`` (inside the
    string, between escapes) can be cut: not inside a UTF-8 character or an escape, nor between
    the two escapes of a surrogate pair. At most 15 bytes before ``end``."""
    cut = end
    for _ in range(3):
        if cut > start and 0x80 <= buf[cut] <= 0xBF:
            cut -= 1
    escape = _last_escape(buf, start, cut)
    if escape is not None and escape + (6 if buf[escape + 1] == 0x75 else 2) > cut:
        cut = escape
        escape = _last_escape(buf, start, cut)
    if (
        escape is not None
        and escape + 6 == cut
        and buf[escape + 1] == 0x75
        and buf[escape + 2 : escape + 4].lower() in _HIGH_SURROGATES
    ):
        cut = escape
    return cut


def _last_escape(buf: bytes, start: int, cut: int) -> int | None:
    """Where the last escape starting within 6 bytes before ``cut`` starts, if any."""
    for at in range(cut - 1, max(start, cut - 6) - 1, -1):
        if buf[at] == 0x5C:
            run = 1
            while at - run >= start and buf[at - run] == 0x5C:
                run += 1
            # An odd run ends with a backslash that starts an escape; an even one with an
            # escaped backslash, the last escape there.
            return at if run % 2 else at - 1
    return None


class _Reader:
    """One pass over the body: checks its syntax, decodes file contents into ``contents`` and
    answers the skeleton the model validates."""

    def __init__(self, source: IO[bytes], contents: Contents, block: int) -> None:
        self.source, self.contents, self.block = source, contents, block
        self.buf = b""
        self.base = 0
        """Offset in the body of ``buf[0]``."""
        self.pos = 0
        self.eof = False
        self.texts: list[Text] = []
        self.files = 0
        """Entries of the last ``files`` list read."""
        source.seek(0)

    # --- input -----------------------------------------------------------------------------

    def _more(self) -> bool:
        if self.eof:
            return False
        data = self.source.read(self.block)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.base += self.pos
        self.pos = 0
        return True

    def _fill(self, count: int) -> bool:
        """At least ``count`` bytes past the position, unless the body ends first."""
        while len(self.buf) - self.pos < count:
            if not self._more():
                return False
        return True

    def _byte(self, index: int) -> int | None:
        """The byte at ``index`` of the body (not before the position), None past its end."""
        if not self._fill(index - self.base - self.pos + 1):
            return None
        return self.buf[index - self.base]

    def _peek(self) -> int | None:
        """The next byte after whitespace, None at the end of the body."""
        while True:
            match = _WHITESPACE.match(self.buf, self.pos)
            assert match is not None
            self.pos = match.end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return None

    def _error(self, message: str, index: int | None = None) -> _SyntaxError:
        return _SyntaxError(message, self.base + self.pos if index is None else index)

    def _eof(self, what: str) -> _SyntaxError:
        return self._eof_at(f"EOF while parsing {what}")

    def _eof_at(self, message: str) -> _SyntaxError:
        """An error placed at the body's last byte."""
        while self._more():
            pass
        return _SyntaxError(message, self.base + len(self.buf) - 1)

    # --- values ----------------------------------------------------------------------------

    def parse(self) -> Any:
        if self._peek() is None:
            raise self._eof("a value")
        skeleton = self._value(0, _ROOT)
        if self._peek() is not None:
            raise self._error("trailing characters")
        return skeleton

    def _value(self, depth: int, role: int) -> Any:
        """The value at the position (after whitespace): its skeleton for ``role``."""
        if depth > RECURSION_LIMIT:
            raise self._error("recursion limit exceeded")
        first = self.buf[self.pos]
        if first == 0x7B:  # {
            return self._object(depth, role)
        if first == 0x5B:  # [
            return self._array(depth, role)
        if first == 0x22:  # "
            self.pos += 1
            return self._string(role)
        if first == 0x2D or 0x30 <= first <= 0x39:  # - or a digit
            self._number()
            return 0
        literal = _LITERALS.get(first)
        if literal is None:
            raise self._error("expected value")
        self._literal(literal[0])
        return literal[1]

    def _object(self, depth: int, role: int) -> Any:
        self.pos += 1
        kept: dict[str, Any] = {}
        following = self._peek()
        if following is None:
            raise self._eof("an object")
        if following == 0x7D:
            self.pos += 1
            return kept
        if following != 0x22:
            raise self._error("key must be a string")
        while True:
            self.pos += 1
            key = self._string(_NAME)
            following = self._peek()
            if following is None:
                raise self._eof("an object")
            if following != 0x3A:
                raise self._error("expected `:`")
            self.pos += 1
            if self._peek() is None:
                raise self._eof("a value")
            if role == _ROOT and key == "files":
                kept[key] = self._value(depth + 1, _FILES)
            elif role == _FILE and key in _FILE_KEYS:
                kept[key] = self._value(depth + 1, _FILE_KEYS[key])
            else:
                self._value(depth + 1, _IGNORED)
            following = self._peek()
            if following is None:
                raise self._eof("an object")
            if following == 0x7D:
                self.pos += 1
                return kept if role in (_ROOT, _FILE) else {}
            if following != 0x2C:
                raise self._error("expected `,` or `}`")
            self.pos += 1
            following = self._peek()
            if following is None:
                raise self._eof("a value")
            if following == 0x7D:
                raise self._error("trailing comma")
            if following != 0x22:
                raise self._error("key must be a string")

    def _array(self, depth: int, role: int) -> Any:
        self.pos += 1
        items: list[Any] = []
        if role == _FILES:
            self.files = 0
        following = self._peek()
        if following is None:
            raise self._eof("a list")
        if following == 0x5D:
            self.pos += 1
            return items
        while True:
            if role == _FILES:
                self.files += 1
            if role == _FILES and self.files <= MAX_FILES:
                items.append(self._value(depth + 1, _FILE))
            else:
                # Past the most files an upload may list, entries are only checked: the upload
                # is refused for their number, whatever they hold.
                self._value(depth + 1, _IGNORED)
            following = self._peek()
            if following is None:
                raise self._eof("a list")
            if following == 0x5D:
                self.pos += 1
                return items if role == _FILES else []
            if following != 0x2C:
                raise self._error("expected `,` or `]`")
            self.pos += 1
            following = self._peek()
            if following is None:
                raise self._eof("a value")
            if following == 0x5D:
                raise self._error("trailing comma")

    def _literal(self, word: bytes) -> None:
        start = self.base + self.pos
        for offset, expected in enumerate(word):
            found = self._byte(start + offset)
            if found is None:
                raise self._eof("a value")
            if found != expected:
                raise self._error("expected ident", start + offset)
        self.pos = start + len(word) - self.base

    def _number(self) -> None:
        at = self.base + self.pos
        if self.buf[self.pos] == 0x2D:  # -
            at += 1
            following = self._byte(at)
            if following is None:
                raise self._eof("a value")
            if following == 0x49:  # -Infinity
                self.pos = at - self.base
                self._literal(b"Infinity")
                return
            if not 0x30 <= following <= 0x39:
                raise self._error("invalid number", at)
        digits_start = at
        if self._byte(at) == 0x30:
            at += 1
            following = self._byte(at)
            if following is not None and 0x30 <= following <= 0x39:
                raise self._error("invalid number", at)
        else:
            at = self._digits(at)
        if at - digits_start > MAX_INT_DIGITS:
            # Refused as soon as the integer is too long, at its next digit (or the body's end).
            limit = digits_start + MAX_INT_DIGITS + 1
            if limit < at or self._byte(at) is not None:
                raise self._error("number out of range", limit)
            raise self._eof_at("number out of range")
        following = self._byte(at)
        if following == 0x2E:  # .
            at = self._required_digits(at + 1)
            following = self._byte(at)
        if following in (0x65, 0x45):  # e E
            at += 1
            if self._byte(at) in (0x2B, 0x2D):
                at += 1
            at = self._required_digits(at)
        self.pos = at - self.base

    def _digits(self, at: int) -> int:
        """The end of the run of digits starting at ``at``. The position follows, so that a
        number of any length is never held whole."""
        while (found := self._byte(at)) is not None and 0x30 <= found <= 0x39:
            match = _DIGITS.match(self.buf, at - self.base)
            assert match is not None
            at = match.end() + self.base
            self.pos = at - self.base
        return at

    def _required_digits(self, at: int) -> int:
        found = self._byte(at)
        if found is None:
            raise self._eof("a value")
        if not 0x30 <= found <= 0x39:
            raise self._error("invalid number", at)
        return self._digits(at)

    # --- strings ---------------------------------------------------------------------------

    def _string(self, role: int) -> Any:
        """The string starting at the position (after its opening quote): a file's content goes
        to ``contents`` (its skeleton is a placeholder naming it), a name or key is kept up to
        ``MAX_NAME`` characters, anything else only checked."""
        kept: list[str] = []
        kept_size = 0
        content = role == _CONTENT
        start = self.contents.size
        string_start = self.base + self.pos
        decoded_size = 0
        bad_utf8: int | None = None
        size = _FIRST_SEGMENT
        while True:
            self._fill(size + _TAIL)
            buf, begin = self.buf, self.pos
            end = min(len(buf), begin + size)
            at_end = self.eof and end == len(buf)
            cut = end if at_end else _safe_cut(buf, begin, end)
            size = min(size * 4, _MAX_SEGMENT)
            if cut == begin and not at_end:
                continue
            # Positions in the body: reading ahead for an escape may move the buffer.
            offset, cut = self.base + begin, self.base + cut
            segment = buf[begin : cut - self.base]
            closing, decoded, encoded, invalid = self._segment(segment, offset)
            if invalid is not None and (closing is None or invalid < closing) and bad_utf8 is None:
                # Placed where it falls in the string once its escapes are decoded, as the JSON
                # parser checks the decoded bytes.
                bad_utf8 = string_start + decoded_size + _decoded_size(segment[: invalid - offset])
            if bad_utf8 is None and decoded is not None:
                decoded_size += len(encoded)
                if content:
                    self.contents.write(encoded)
                elif role == _NAME and kept_size < MAX_NAME:
                    kept.append(decoded[: MAX_NAME - kept_size])
                    kept_size += len(kept[-1])
            if closing is not None:
                self.pos = closing - self.base + 1
                break
            self.pos = cut - self.base
            if at_end:
                raise self._eof("a string")
        if bad_utf8 is not None:
            raise self._error("invalid unicode code point", bad_utf8)
        if content:
            self.texts.append(Text(self.contents, start, self.contents.size - start))
            return f"\x00{len(self.texts) - 1}"
        return "".join(kept) if role == _NAME else ""

    def _segment(self, segment: bytes, offset: int) -> tuple[int | None, str | None, bytes, int | None]:
        """Decode part of a string: (where its closing quote is if in this part, the text up to
        it, decoded and as UTF-8, where its first invalid UTF-8 byte is). Raises what the JSON
        parser would find first in this part (an escape or a control character)."""
        try:
            text, invalid = segment.decode(), None
        except UnicodeDecodeError as exc:
            text, invalid = segment.decode("utf-8", "surrogateescape"), offset + exc.start
        # The C scanner of the json module, up to the string's closing quote or the one added.
        decoded: str | None
        try:
            decoded, end = scanstring(text + '"', 0, True)
            encoded = decoded.encode() if invalid is None else b""  # refuses a lone surrogate
        except ValueError:
            decoded = None
        if decoded is None or invalid is not None:
            return self._exact(offset, offset + len(segment)), None, b"", invalid
        closing = offset + len(text[: end - 1].encode()) if end <= len(text) else None
        return closing, decoded, encoded, None

    def _exact(self, start: int, end: int) -> int | None:
        """Scan string bytes from ``start`` (between escapes) as the JSON parser does: raise its
        first error before ``end``, or answer where the closing quote is (None if not there)."""
        at = start
        while at < end:
            found = self._byte(at)
            assert found is not None
            if found == 0x22:
                return at
            if found == 0x5C:
                at = self._escape(at)
            elif found < 0x20:
                raise self._error("control character (\\u0000-\\u001F) found while parsing a string", at)
            else:
                at += 1
        return None

    def _escape(self, at: int) -> int:
        kind = self._byte(at + 1)
        if kind is None:
            raise self._eof("a string")
        if kind in _SIMPLE_ESCAPES:
            return at + 2
        if kind != 0x75:
            raise self._error("invalid escape", at + 1)
        value = self._hex(at + 2)
        if 0xDC00 <= value <= 0xDFFF:
            raise self._error("lone leading surrogate in hex escape", at + 5)
        if not 0xD800 <= value <= 0xDBFF:
            return at + 6
        at += 6
        for expected in (0x5C, 0x75):  # \u of the low surrogate
            found = self._byte(at)
            if found is None:
                raise self._eof("a string")
            if found != expected:
                raise self._error("unexpected end of hex escape", at)
            at += 1
        if not 0xDC00 <= self._hex(at) <= 0xDFFF:
            raise self._error("lone leading surrogate in hex escape", at + 3)
        return at + 4

    def _hex(self, at: int) -> int:
        if self._byte(at + 3) is None:
            raise self._eof("a string")
        digits = bytes(self._byte(at + i) or 0 for i in range(4))
        for i, digit in enumerate(digits):
            if digit not in _HEX:
                raise self._error("invalid escape", at + i)
        return int(digits, 16)
