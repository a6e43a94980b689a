"""The one .xlsx writer of exports: rows stream from a generator into a Rust writer in constant memory.

``rustpy-xlsxwriter`` (rust_xlsxwriter underneath) writes 100,000 rows × 10 columns in under a second
where openpyxl's write-only mode takes about 17 s. Every string is written as a text cell, never as a
formula, so a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a CR stays the text it was
(tests/unit/test_excel_io.py opens the file and checks the cell types).
"""
from __future__ import annotations

import datetime
import enum
import re
from typing import Callable, Iterable, Optional, Sequence

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel refuses cell text longer than this
MAX_CELL_CHARS = 32_767
#: characters XML 1.0 cannot carry
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
PROGRESS_EVERY = 2000


def cell(value):
    """A value as the sheet stores it: text, a number, or blank."""
    if value is None:
        return ""
    if isinstance(value, str):
        if len(value) > MAX_CELL_CHARS:
            value = value[:MAX_CELL_CHARS]
        return _ILLEGAL.sub("", value) if _ILLEGAL.search(value) else value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, enum.Enum) and hasattr(value, "label"):
        return str(value.label)
    return cell(str(value))


def _clean_row(row: Sequence) -> Sequence:
    """A row of plain text cells is checked with one search over its joined text; anything else cell by cell."""
    try:
        joined = "".join(row)
    except TypeError:
        return [cell(v) for v in row]
    if len(joined) > MAX_CELL_CHARS or _ILLEGAL.search(joined):
        return [cell(v) for v in row]
    return row


def sheet_name(title: str) -> str:
    name = _SHEET_FORBIDDEN.sub("_", str(title or "Sheet1")).strip("'") or "Sheet1"
    return name[:31]


def unique_headers(headers: Sequence[str]) -> list[str]:
    """The writer keys columns by header text: repeated headers get a number."""
    seen: dict[str, int] = {}
    result = []
    for text in headers:
        text = str(text)
        if text in seen:
            seen[text] += 1
            text = f"{text}{seen[text]}"
        else:
            seen[text] = 1
        result.append(text)
    return result


def write_rows(path: str, *, title: str, headers: Sequence[str], rows: Iterable[Sequence],
               widths: Optional[Sequence[float]] = None, limit: Optional[int] = None,
               note: Optional[str] = None, progress: Optional[Callable[[int], None]] = None) -> int:
    """Write a header row and the rows (at most ``limit``; then ``note`` as a last row). Returns rows written."""
    from rustpy_xlsxwriter import write_worksheet

    keys = unique_headers(headers)
    count = [0]

    def records():
        width = len(keys)
        for row in rows:
            if limit is not None and count[0] >= limit:
                if note:
                    yield {keys[0]: note, **{k: "" for k in keys[1:]}}
                return
            count[0] += 1
            if progress is not None and count[0] % PROGRESS_EVERY == 0:
                progress(count[0])
            yield dict(zip(keys, _clean_row(row)))

    data = records()
    first = next(data, None)
    if first is None:  # the writer needs one record to learn the columns: an empty sheet keeps its header
        data, first = iter(()), {k: "" for k in keys}

    def chained():
        yield first
        yield from data

    write_worksheet(chained(), path, sheet_name=sheet_name(title), bold_headers=True, freeze_row=1,
                    column_widths=list(widths) if widths else None)
    if progress is not None:
        progress(count[0])
    return count[0]
