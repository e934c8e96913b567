"""SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2): the parser.

A small recursive-descent parser over the RFC's ABNF, so each error names its position and what
was expected. Keywords, operators and attribute names are case-insensitive; `and` binds tighter
than `or`; `not` takes a parenthesised filter; string values are JSON strings. Validation against
a schema and evaluation against a resource live in `enabley.scim.evaluate`, re-exported here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from enabley.scim.evaluate import check_compare, definition, get, matches, matches_value, validate
from enabley.scim.nodes import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    Filter,
    FilterError,
    Not,
    Or,
    PatchPath,
    Value,
    ValuePath,
    coerce_boolean,
    parse_datetime,
)

__all__ = [
    "And",
    "AttrPath",
    "Compare",
    "Filter",
    "FilterError",
    "Not",
    "Or",
    "PatchPath",
    "Value",
    "ValuePath",
    "check_compare",
    "coerce_boolean",
    "definition",
    "get",
    "matches",
    "matches_value",
    "parse_datetime",
    "parse_filter",
    "parse_patch_path",
    "validate",
]


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", or the punctuation itself: ( ) [ ]
    text: str
    at: int  # 1-based position in the text


MAX_DEPTH = 32
"""Levels of parentheses, ``not`` and brackets a filter may nest."""
MAX_COMPARISONS = 100
"""Comparisons a filter may hold: identity providers send one or two."""

_NAME = r"\$?[A-Za-z][A-Za-z0-9_-]*"
_ATTR_PATH = re.compile(rf"(?:(urn:[^\s\[\]()\"]+):)?({_NAME})(?:\.({_NAME}))?", re.IGNORECASE)
_SUB_ATTR = re.compile(rf"\.({_NAME})")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_WORD_END = re.compile(r"[\s()\[\]\"]")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()[]":
            tokens.append(_Token(ch, ch, i + 1))
            i += 1
        elif ch == '"':
            end = _string_end(text, i)
            tokens.append(_Token("string", text[i:end], i + 1))
            i = end
        else:
            found = _WORD_END.search(text, i)
            end = found.start() if found else len(text)
            tokens.append(_Token("word", text[i:end], i + 1))
            i = end
    return tokens


def _string_end(text: str, start: int) -> int:
    """Where the string opened at ``start`` ends (just past its closing quote)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    raise FilterError(f"unterminated string starting at position {start + 1}")


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        if not text.strip():
            raise FilterError(f"the {what} is empty")
        self.tokens = _tokenize(text)
        self.i = 0
        self.end_at = len(text) + 1
        self.what = what
        self.depth = 0
        self.comparisons = 0

    def peek(self, ahead: int = 0) -> _Token | None:
        at = self.i + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def fail(self, expected: str) -> FilterError:
        token = self.peek()
        at = token.at if token else self.end_at
        found = f"the end of the {self.what}" if token is None else f"'{token.text}'"
        return FilterError(f"expected {expected} at position {at}, found {found}")

    def take(self, kind: str, expected: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            raise self.fail(expected)
        self.i += 1
        return token

    def accept(self, kind: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == kind:
            self.i += 1
            return True
        return False

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.i += 1
            return True
        return False

    def expect_end(self, expected: str) -> None:
        if self.peek() is not None:
            raise self.fail(expected)

    def filter(self, inside: bool) -> Filter:
        """``or`` of ``and`` groups, left to right."""
        left = self.conjunction(inside)
        while self.keyword("or"):
            left = Or(left, self.conjunction(inside))
        return left

    def conjunction(self, inside: bool) -> Filter:
        left = self.unary(inside)
        while self.keyword("and"):
            left = And(left, self.unary(inside))
        return left

    def unary(self, inside: bool) -> Filter:
        token = self.peek()
        if token is not None and token.kind == "(":
            self.i += 1
            inner = self.nested(token, inside)
            self.take(")", "')'")
            return inner
        if token is not None and token.kind == "word" and token.text.lower() == "not":
            self.i += 1
            self.take("(", "'(' after 'not'")
            inner = self.nested(token, inside)
            self.take(")", "')'")
            return Not(inner)
        path = self.attr_path()
        bracket = self.peek()
        if bracket is None or bracket.kind != "[":
            return self.comparison(path)
        if inside:
            raise self.fail("an operator (value filters cannot nest)")
        self.i += 1
        inner = self.nested(bracket, True)
        self.take("]", "']'")
        return ValuePath(path, inner)

    def nested(self, opening: _Token, inside: bool) -> Filter:
        """The filter inside parentheses or brackets; the nesting is bounded so that neither this
        parser nor what walks its result can run out of stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(
                f"the {self.what} nests more than {MAX_DEPTH} levels deep at position {opening.at}"
            )
        inner = self.filter(inside)
        self.depth -= 1
        return inner

    def attr_path(self) -> AttrPath:
        token = self.peek()
        found = _ATTR_PATH.fullmatch(token.text) if token is not None and token.kind == "word" else None
        if found is None:
            raise self.fail("an attribute name")
        self.i += 1
        urn, attr, sub = found.groups()
        return AttrPath(urn.lower() if urn else None, attr.lower(), sub.lower() if sub else None)

    def comparison(self, path: AttrPath) -> Compare:
        token = self.peek()
        op = token.text.lower() if token is not None and token.kind == "word" else ""
        if op != "pr" and op not in COMPARE_OPS:
            raise self.fail("an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)")
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise FilterError(f"the {self.what} has more than {MAX_COMPARISONS} comparisons")
        self.i += 1
        if op == "pr":
            return Compare(path, op, None)
        return Compare(path, op, self.value())

    def value(self) -> Value:
        token = self.peek()
        expected = "a value (a quoted string, a number, true, false or null)"
        if token is None or token.kind not in ("string", "word"):
            raise self.fail(expected)
        if token.kind == "string":
            self.i += 1
            try:
                decoded = json.loads(token.text)
            except json.JSONDecodeError as exc:
                raise FilterError(f"invalid string at position {token.at + exc.pos}: {exc.msg}") from None
            return str(decoded)
        word = token.text.lower()
        literals: dict[str, Value] = {"true": True, "false": False, "null": None}
        if word in literals:
            self.i += 1
            return literals[word]
        number = _NUMBER.fullmatch(token.text)
        if number is None:
            raise self.fail(expected)
        self.i += 1
        return float(token.text) if number.group(1) or number.group(2) else int(token.text)


def parse_filter(text: str) -> Filter:
    """Parse a ``filter`` parameter; FilterError names the position and what was expected."""
    parser = _Parser(text, "filter")
    result = parser.filter(False)
    token = parser.peek()
    if token is not None and token.kind == "word" and _SUB_ATTR.fullmatch(token.text):
        raise FilterError(f"a sub-attribute after ']' (position {token.at}) is allowed only in a PATCH path")
    parser.expect_end("'and', 'or' or the end of the filter")
    return result


def parse_patch_path(text: str) -> PatchPath:
    """Parse a PATCH operation's ``path`` (RFC 7644 §3.5.2: attrPath / valuePath [subAttr])."""
    parser = _Parser(text, "path")
    path = parser.attr_path()
    if not parser.accept("["):
        parser.expect_end("'[' or the end of the path")
        return PatchPath(path)
    inner = parser.filter(True)
    parser.take("]", "']'")
    sub: str | None = None
    token = parser.peek()
    if token is not None and token.kind == "word":
        found = _SUB_ATTR.fullmatch(token.text)
        if found is None:
            raise parser.fail("'.' and a sub-attribute, or the end of the path")
        if path.sub is not None:
            raise FilterError(f"'{path.name}' has no sub-attributes to select at position {token.at}")
        sub = found.group(1).lower()
        parser.i += 1
    parser.expect_end("the end of the path")
    return PatchPath(path, inner, sub)
