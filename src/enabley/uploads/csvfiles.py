"""The upload's CSV files: a checked header, then the rows one at a time with their line numbers.

Rows are read from the file's decoded text on disk (``body.Text``), line by line, so a pass over a
file holds one row at a time; a second pass reads the text again rather than keeping what the
first one parsed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from enabley.uploads.body import Text
from enabley.uploads.problems import Problems


def _lines(stream: IO[str]) -> Iterator[str]:
    """The lines of the text with their line ends (only ``\\n`` ends one), a byte order mark
    at its start left out."""
    first = stream.readline()
    if first:
        yield first.removeprefix("\ufeff")
        yield from stream


COUNT_EVERY = 500
"""Rows between two calls of a file's ``counter``."""


class CsvFile:
    """One uploaded file. ``line`` numbers are where a row starts (the header is line 1), so a
    quoted value that spans lines moves the numbers of the rows after it, as an editor shows them."""

    def __init__(self, name: str, text: Text) -> None:
        self.name = name
        self.text = text
        self.header_line = 0
        self.width = 0
        self.columns: dict[str, int] = {}
        self.counter: Callable[[int], None] | None = None
        """Told how many rows ``rows`` has yielded, every ``COUNT_EVERY`` and at the end (an
        upload job's progress)."""

    def read_header(self, known: Sequence[str], required: Sequence[str], problems: Problems) -> bool:
        """Check the header row against the file's columns; False (with problems) when unusable."""
        for line, cells in self._records(problems):
            self.header_line, self.width = line, len(cells)
            names = [cell.strip() for cell in cells]
            for index, name in enumerate(names):
                if name not in known:
                    problems.add(
                        self.name, line, name or None, f"Unknown column {name!r}: expected {', '.join(known)}"
                    )
                elif name in self.columns:
                    problems.add(self.name, line, name, f"Column {name!r} is given twice")
                else:
                    self.columns[name] = index
            for name in required:
                if name not in names:
                    problems.add(self.name, line, name, f"Missing required column {name!r}")
            return not problems
        if not problems:
            problems.add(self.name, None, None, "The file is empty: a header row is required")
        return False

    def rows(self, problems: Problems | None = None) -> Iterator[tuple[int, list[str]]]:
        """The rows after the header; blank lines and rows of empty cells are skipped. A row with
        more or fewer cells than the header is reported to ``problems`` and skipped; a CSV syntax
        error ends the file there."""
        width, counter, counted = self.width, self.counter, 0
        try:
            for line, cells in self._records(problems):
                if line <= self.header_line:
                    continue
                if len(cells) != width:
                    if problems is not None:
                        problems.add(
                            self.name, line, None, f"The row has {len(cells)} cells; the header has {width}"
                        )
                    continue
                yield line, cells
                if counter is not None:
                    counted += 1
                    if counted == COUNT_EVERY:
                        counter(counted)
                        counted = 0
        finally:
            if counter is not None and counted:
                counter(counted)

    def count(self) -> int:
        """How many rows ``rows`` yields: a pass over the text that checks nothing."""
        width, header = self.width, self.header_line
        return sum(1 for line, cells in self._records(None) if line > header and len(cells) == width)

    def _records(self, problems: Problems | None) -> Iterator[tuple[int, list[str]]]:
        with self.text.open() as stream:
            reader = csv.reader(_lines(stream), strict=True)
            end = 0
            try:
                for cells in reader:
                    start, end = end + 1, reader.line_num
                    if cells and any(cells):
                        yield start, cells
            except csv.Error as exc:
                if problems is not None:
                    problems.add(self.name, end + 1, None, f"Malformed CSV: {exc}")
