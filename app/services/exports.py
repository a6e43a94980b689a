"""Excel exports that never hold an unbounded result in memory, and the audit-log search they stream.

``xlsx_file`` writes rows with openpyxl's write-only workbook (rows go to a temporary file as they
come) into a SpooledTemporaryFile that spills to disk past a few megabytes; the caller streams it.
Queries feed it in chunks (``yield_per``), capped at ``MAX_EXPORT_ROWS``.
"""
from __future__ import annotations

import datetime
import tempfile
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Account, AuditLog
from app.scope import Scope
from app.validators import normalize_id_number

#: most rows one export writes
MAX_EXPORT_ROWS = 100_000
#: rows fetched from the database at a time
CHUNK = 1000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel refuses cell text longer than this
MAX_CELL_CHARS = 32_767


#: text starting with one of these is read as a formula by Excel, WPS or LibreOffice
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell_value(value, sheet=None):
    """What one exported cell holds. Text that a spreadsheet would evaluate as a formula (a registrant
    named ``=HYPERLINK(...)``, a reason starting with "=") becomes a string cell with Excel's quote
    prefix: shown exactly as entered, never evaluated (openpyxl alone writes "=..." as a formula)."""
    if value is None:
        return ""
    if isinstance(value, str):
        if len(value) > MAX_CELL_CHARS:
            value = value[:MAX_CELL_CHARS]
        if value.startswith(FORMULA_PREFIXES) and sheet is not None:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
    return value


def xlsx_file(headers: Sequence[str], rows: Iterable[Sequence], *, sheet_title: str,
              limit: int = MAX_EXPORT_ROWS, truncated_note: Optional[str] = None,
              column_widths: Optional[Sequence[int]] = None):
    """A rewound temporary file holding the workbook; at most `limit` data rows are written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    for index, width in enumerate(column_widths or []):
        sheet.column_dimensions[_column_letter(index)].width = width
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    written = 0
    truncated = False
    for row in rows:
        if written >= limit:
            truncated = True
            break
        sheet.append([_cell_value(v, sheet) for v in row])
        written += 1
    if truncated and truncated_note:
        sheet.append([truncated_note])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(out)
    out.seek(0)
    return out


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def stream_file(fileobj, chunk_size: int = 64 * 1024):
    """Yield a file's bytes in chunks and close it afterwards."""
    try:
        while True:
            data = fileobj.read(chunk_size)
            if not data:
                break
            yield data
    finally:
        fileobj.close()


def export_filename(stem: str) -> str:
    return f"{stem}_{datetime.datetime.now():%Y%m%d%H%M%S}.xlsx"


# ------------------------------------------------------------------ 审计日志
@dataclass
class AuditFilters:
    """What the viewer searches the audit log by; all optional."""

    actor: str = ""
    action: str = ""
    date_from: Optional[datetime.date] = None
    date_to: Optional[datetime.date] = None


def audit_log_query(scope: Scope, filters: AuditFilters):
    """Audit rows of the viewer's subtree (by the path stored on each row), newest first."""
    query = select(AuditLog)
    if scope.is_none:
        return query.where(AuditLog.id.is_(None))
    if not scope.is_all:
        query = query.where(AuditLog.org_path.like(scope.prefix + "%"))
    term = (filters.actor or "").strip()
    if term:
        number = normalize_id_number(term)
        actors = select(Account.id).where(
            or_(Account.username == number, Account.real_name.contains(term, autoescape=True)))
        query = query.where(AuditLog.actor_id.in_(actors))
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.date_from:
        query = query.where(AuditLog.created_on >= datetime.datetime.combine(filters.date_from, datetime.time.min))
    if filters.date_to:
        end = datetime.datetime.combine(filters.date_to + datetime.timedelta(days=1), datetime.time.min)
        query = query.where(AuditLog.created_on < end)
    return query.order_by(AuditLog.created_on.desc(), AuditLog.id.desc())


def iter_audit_rows(query, to_row: Callable[[AuditLog], Sequence], limit: int = MAX_EXPORT_ROWS):
    """Rows of an audit query for export, fetched in chunks; one more than `limit` signals truncation."""
    result = db.session.execute(
        query.options(joinedload(AuditLog.actor)).limit(limit + 1).execution_options(yield_per=CHUNK)
    ).scalars()
    for item in result:
        yield to_row(item)
