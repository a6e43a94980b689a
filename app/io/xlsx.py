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
               note: Optional[str] = None, progress: Optional[Callable[[int], None]] = None,
               header_cells: Optional[Sequence[tuple]] = None) -> int:
    """Write a header row and the rows (at most ``limit``; then ``note`` as a last row). Returns rows written.

    ``header_cells``: a header of several rows with merged cells instead, as ``(first_row, first_col,
    last_row, last_col, text)`` (0-based; a single cell has first == last); see ``write_merged_header``.
    """
    if header_cells:
        return write_merged_header(path, title=title, header_cells=header_cells, rows=rows, widths=widths,
                                   limit=limit, note=note, progress=progress)
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


#: most data rows a sheet with a merged header takes (statistics tables: one row per department or series)
MERGED_HEADER_MAX_ROWS = 10_000


def write_merged_header(path: str, *, title: str, header_cells: Sequence[tuple], rows: Iterable[Sequence],
                        widths: Optional[Sequence[float]] = None, limit: Optional[int] = None,
                        note: Optional[str] = None, progress: Optional[Callable[[int], None]] = None) -> int:
    """A sheet whose header spans several rows with merged cells (统计表: 当年总学习人数 over three columns).

    The Rust writer cannot merge within or below its header row, so these small tables are written with
    openpyxl; every string is still a text cell (never a formula) and the header rows stay frozen.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    limit = min(limit or MERGED_HEADER_MAX_ROWS, MERGED_HEADER_MAX_ROWS)
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name(title)
    bold, centred = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    height = max(c[2] for c in header_cells) + 1

    def put(row: int, col: int, value):
        target = sheet.cell(row=row + 1, column=col + 1)
        value = cell(value)
        target.value = value
        if isinstance(value, str):
            target.data_type = "s"  # text, never a formula
        return target

    for first_row, first_col, last_row, last_col, text in header_cells:
        target = put(first_row, first_col, str(text))
        target.font, target.alignment = bold, centred
        if (first_row, first_col) != (last_row, last_col):
            sheet.merge_cells(start_row=first_row + 1, start_column=first_col + 1,
                              end_row=last_row + 1, end_column=last_col + 1)
    count = 0
    for row in rows:
        if count >= limit:
            if note:
                put(height + count, 0, note)
            break
        for col, value in enumerate(row):
            put(height + count, col, value)
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    for index, width in enumerate(widths or []):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = sheet.cell(row=height + 1, column=1)
    book.save(path)
    if progress is not None:
        progress(count)
    return count
