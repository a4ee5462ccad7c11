"""The single exception type for billing files that cannot be read at all.

Contract: every whole-file problem (unknown format, wrong delimiter, missing mandatory column, duplicate
header, non-UTF-8 bytes, truncated gzip, empty file, header-only file, ragged rows) raises
``BillingFileError``. Header problems are found before the first batch is yielded; body problems (bad bytes,
truncated gzip) are found while streaming, so a caller must treat a file as one unit of work (one database
transaction) and discard whatever it received from that file when this error is raised.
"""

from __future__ import annotations


class BillingFileError(Exception):
    """A billing file is unusable as a whole.

    ``line`` is 1-based (the header is line 1) or ``None`` when the reader cannot know it;
    ``column`` is the source column name or ``None``.
    """

    def __init__(self, file: str, message: str, *, line: int | None = None, column: str | None = None):
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.file, self.message, self.line, self.column))


def _rebuild(file: str, message: str, line: int | None, column: str | None) -> BillingFileError:
    return BillingFileError(file, message, line=line, column=column)
