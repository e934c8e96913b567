"""Statements SQLAlchemy compiles once and the code runs straight on the DBAPI cursor.

``FastQuery`` (one-row lookups), ``bulk`` (multi-row writes, reads by a list of keys) skip
SQLAlchemy's per-execution machinery, which costs more than the database's own work on those
paths (docs/decisions/0001-execution-model.md). SQLAlchemy still writes the SQL and its column
types still convert the values. For that they need a few of SQLAlchemy's compiler internals,
which this module alone touches; tests/test_sqlalchemy_hooks.py checks that each still exists,
so that a new SQLAlchemy fails a test, not the server (pyproject.toml pins the minor version;
docs/decisions/0007-code-layout.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.engine.interfaces import Compiled
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

Processor = Callable[[Any], Any]

MEMO_LIMIT = 1000
"""Distinct values a memo keeps converted."""


def expanding_mark(name: str) -> str:
    """What an expanding ``bindparam(name, expanding=True)`` compiles to, until execution."""
    return f"__[POSTCOMPILE_{name}]"


def compile_for(stmt: Any, dialect: Dialect) -> SQLCompiler:
    compiled = stmt.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def bind_order(compiled: Compiled) -> list[str]:
    """The names of the statement's binds, in the order of its placeholders when positional."""
    assert isinstance(compiled, SQLCompiler)
    if compiled.positional:
        return list(compiled.positiontup or ())
    return list(compiled.bind_names.values())


def bind_processors(compiled: Compiled) -> dict[str, Processor]:
    """The bind processors of the statement's binds that need one, by name."""
    assert isinstance(compiled, SQLCompiler)
    # Sequences only for tuple-valued binds, which none of these statements has.
    return cast(dict[str, Processor], dict(compiled._bind_processors))


def result_processors(columns: Iterable[ColumnElement[Any]], dialect: Dialect) -> list[tuple[int, Processor]]:
    """(position, processor) of the selected columns whose values need converting."""
    return [
        (i, processor)
        for i, column in enumerate(columns)
        if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
    ]


_TWINS: dict[str, Dialect] = {}


def positional(dialect: Dialect) -> Dialect:
    """The dialect itself when its placeholders are positional, else a twin that writes ``%s``
    (psycopg takes both), so that a row's placeholders read the same in every row."""
    if dialect.positional:
        return dialect
    twin = _TWINS.get(dialect.name)
    if twin is None:
        twin = _TWINS[dialect.name] = type(dialect)(paramstyle="format")  # type: ignore[call-arg]
    return twin


class Converter:
    """Converts some positions of a row with their processors (bind or result).

    With memos (``memos()``, one per position), a value met before is converted once: those that
    need converting repeat (timestamps, role lists). Converted results are then shared: whoever
    reads them must not change them.
    """

    __slots__ = ("processors",)

    def __init__(self, processors: Sequence[tuple[int, Processor]]) -> None:
        self.processors = list(processors)

    def __bool__(self) -> bool:
        return bool(self.processors)

    def split(self, width: int) -> tuple[Converter, Converter]:
        """Those of a row's first ``width`` positions, and those of the rest (counted from there)."""
        first = Converter([(i, p) for i, p in self.processors if i < width])
        rest = Converter([(i - width, p) for i, p in self.processors if i >= width])
        return first, rest

    def memos(self) -> list[dict[Any, Any]]:
        return [{} for _ in self.processors]

    def apply(self, row: Sequence[Any], memos: list[dict[Any, Any]] | None = None) -> Sequence[Any]:
        if not self.processors:
            return row
        values = list(row)
        if memos is None:
            for i, process in self.processors:
                values[i] = process(values[i])
            return values
        for (i, process), memo in zip(self.processors, memos, strict=True):
            value = values[i]
            key = tuple(value) if isinstance(value, list) else value
            try:
                done = memo.get(key, memo)
            except TypeError:  # not hashable (a driver's own dict): converted each time
                values[i] = process(value)
                continue
            if done is memo:
                done = process(value)
                if len(memo) < MEMO_LIMIT:
                    memo[key] = done
            values[i] = done
        return values
