"""What is wrong with an upload: every problem counted, the first of them listed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Problem(NamedTuple):
    file: str | None
    line: int | None
    column: str | None
    message: str


class Problems:
    """Every problem of an upload, listing at most ``cap`` of them (the first by file and line).

    Memory stays bounded whatever the count: the list is cut back to the first ``cap`` whenever
    it doubles. ``file_order`` sorts files as the request gave them.
    """

    def __init__(self, file_order: Iterable[str], cap: int) -> None:
        self.cap = cap
        self.total = 0
        self._order: dict[str, int] = {}
        for name in file_order:
            self._order.setdefault(name, len(self._order))
        self._kept: list[Problem] = []
        self._bad_rows: set[tuple[str | None, int | None]] = set()

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, file: str | None, line: int | None, column: str | None, message: str) -> None:
        self.total += 1
        self._bad_rows.add((file, line))
        self._kept.append(Problem(file, line, column, message))
        if len(self._kept) >= 2 * self.cap:
            self._trim()

    def _key(self, problem: Problem) -> tuple[int, int, str]:
        return (self._order.get(problem.file or "", -1), problem.line or 0, problem.column or "")

    def _trim(self) -> None:
        self._kept.sort(key=self._key)
        del self._kept[self.cap :]

    def listed(self) -> list[Problem]:
        self._trim()
        return list(self._kept)

    @property
    def bad_rows(self) -> int:
        return len(self._bad_rows)

    def summary(self) -> str:
        first = self.listed()[0]
        where = ", ".join(
            part for part in (first.file, f"line {first.line}" if first.line else None, first.column) if part
        )
        rows = self.bad_rows
        if all(line is None for _file, line in self._bad_rows):
            # A whole file is refused (an unknown name, given twice, empty): no row was read.
            more = self.total - 1
            return f"{first.message}; nothing was written" + (
                f" ({more} more {'problem' if more == 1 else 'problems'})" if more else ""
            )
        return (
            f"{rows} bad {'row' if rows == 1 else 'rows'} ({self.total} "
            f"{'problem' if self.total == 1 else 'problems'}); nothing was written. "
            f"{where}: {first.message}"
        )
