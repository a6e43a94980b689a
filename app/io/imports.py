"""The import framework: a column spec, a row validator and a set-based committer per import.

``check`` reads the file (``reader.read_sheet``), parses every cell by its column's kind, refuses rows
repeated within the file, then hands the parsed rows to the import's validator (references, scope,
duplicates against the database — in a few set-based queries, never one per row). The report lists
each bad row with its Excel row number, column and reason; ``commit`` inserts the good rows in one
transaction through the import's committer; ``rejected_file`` writes the bad rows back with a reason
column (the template's columns first, so the fixed file imports as it is).
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Optional, Sequence

from flask_babel import gettext as _

from app.actor import Actor
from app.errors import InvalidInput
from app.io.reader import read_sheet
from app.services.transaction import transaction
from app.validators import validate_id_number, validate_mobile

#: most bad rows a preview lists on the page (all of them go to the rejected-rows file)
MAX_LISTED_ERRORS = 1000


@dataclass
class Column:
    """One template column: its key, Chinese header, kind and the help the instruction sheet gives."""

    key: str
    header: Any
    #: text | id_number | mobile | date | choice
    kind: str = "text"
    required: bool = False
    max_length: Optional[int] = None
    #: the allowed values of a choice column (its drop-down)
    choices: Optional[Callable[[], list[str]]] = None
    #: values the template offers in a drop-down of a column that also takes others (e.g. codes)
    suggestions: Optional[Callable[[], list[str]]] = None
    note: Any = ""
    example: str = ""
    width: float = 16


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Importer:
    """What one kind of import declares; the framework does the rest."""

    name: str
    title: Any
    columns: list[Column]
    #: (parsed rows [(row number, {key: value})], actor) -> (prepared rows [(row number, dict)], errors)
    validate: Callable[[list[tuple[int, dict]], Actor], tuple[list[tuple[int, dict]], list[RowError]]]
    #: (prepared dicts, actor, file name) -> rows written; runs inside the import's one transaction
    commit: Callable[[list[dict], Actor, str], int]
    #: column keys that identify a row: a repeat within the file is refused
    unique: Sequence[str] = ()
    #: who may import: actor -> None, or raises NotAllowed
    allowed: Optional[Callable[[Actor], None]] = None
    instructions: Sequence[Any] = ()

    @property
    def headers(self) -> list[str]:
        return [str(c.header) for c in self.columns]


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.name] = importer
    return importer


def importer_named(name: str) -> Importer:
    from app.errors import NotFound

    if name not in IMPORTERS:
        raise NotFound()
    return IMPORTERS[name]


@dataclass
class Report:
    """The outcome of checking a file."""

    total: int
    good: list[tuple[int, dict]]
    errors: list[RowError]
    #: the raw cells of every row, by row number (for the rejected-rows file)
    raw: dict[int, list] = field(default_factory=dict)

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def summary(self) -> dict:
        return {"total": self.total, "good": len(self.good), "bad": len(self.bad_rows),
                "errors": [[e.row, e.column, e.reason] for e in sorted(self.errors, key=lambda e: e.row)
                           [:MAX_LISTED_ERRORS]],
                "error_count": len(self.errors)}


# ------------------------------------------------------------------ cells
_DATE_TEXT = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def parse_cell(column: Column, value, choices: dict[str, set]) -> Any:
    """The typed value of a cell, or ValueError with a Chinese reason."""
    if column.kind == "id_number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(_("Enter the ID number as text (a number cell loses its last digits)"))
    if column.kind == "date" and isinstance(value, datetime.datetime):
        return value.date()
    if column.kind == "date" and isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        if column.required:
            raise ValueError(_("This column is required"))
        return None
    if column.kind == "id_number":
        return validate_id_number(text)
    if column.kind == "mobile":
        return validate_mobile(text)
    if column.kind == "date":
        match = _DATE_TEXT.fullmatch(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
        try:
            if match is None:
                raise ValueError
            return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD")) from None
    if column.kind == "choice":
        if text not in choices[column.key]:
            raise ValueError(_("“%(value)s” is not one of the choices of the drop-down list", value=text[:30]))
        return text
    if column.max_length and len(text) > column.max_length:
        raise ValueError(_("At most %(n)d characters", n=column.max_length))
    return text


def check(importer: Importer, fileobj: BinaryIO, actor: Actor, progress: Optional[Callable[[int, int], None]] = None,
          ) -> Report:
    """Read and validate every row; nothing is written."""
    if importer.allowed is not None:
        importer.allowed(actor)
    sheet = read_sheet(fileobj, importer.headers)
    total = len(sheet.rows)
    if progress:
        progress(0, total)
    choices = {c.key: set(c.choices()) for c in importer.columns if c.kind == "choice" and c.choices}
    parsed: list[tuple[int, dict]] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    raw: dict[int, list] = {}
    for index, (row_number, values) in enumerate(sheet.rows, start=1):
        raw[row_number] = values
        row: dict[str, Any] = {}
        row_errors = []
        for column, value in zip(importer.columns, values):
            try:
                row[column.key] = parse_cell(column, value, choices)
            except ValueError as exc:
                row_errors.append(RowError(row_number, str(column.header), str(exc)))
        if not row_errors and importer.unique:
            key = tuple(row.get(k) for k in importer.unique)
            if key in seen:
                header = str(next(c.header for c in importer.columns if c.key == importer.unique[0]))
                row_errors.append(RowError(row_number, header, _("Repeats row %(row)d of this file", row=seen[key])))
            else:
                seen[key] = row_number
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append((row_number, row))
        if progress and index % 2000 == 0:
            progress(index // 2, total)
    good, rejected = importer.validate(parsed, actor)
    errors.extend(rejected)
    if progress:
        progress(total, total)
    return Report(total=total, good=good, errors=sorted(errors, key=lambda e: e.row), raw=raw)


def commit(importer: Importer, report: Report, actor: Actor, file_name: str) -> int:
    """All good rows in one transaction, set-based; nothing when there are none."""
    from sqlalchemy.exc import IntegrityError

    from app.errors import Conflict

    if not report.good:
        raise InvalidInput(_("No row of the file can be imported; nothing was changed"))
    try:
        with transaction():
            return importer.commit([row for _, row in report.good], actor, file_name)
    except IntegrityError as exc:
        raise Conflict(_("Some rows were entered by someone else meanwhile (for example the same ID number); "
                         "nothing was imported. Please check the file again")) from exc


def rejected_file(importer: Importer, report: Report, path: str) -> int:
    """The bad rows as they were, with a reason column; returns the number of rows written."""
    from app.io.xlsx import write_rows

    reasons: dict[int, list[str]] = {}
    for error in report.errors:
        reasons.setdefault(error.row, []).append(f"{error.column}：{error.reason}")

    def rows():
        for row_number in sorted(reasons):
            yield list(report.raw.get(row_number, [])) + [
                _("Row %(row)d: %(reasons)s", row=row_number, reasons="；".join(reasons[row_number]))]

    headers = importer.headers + [_("Error reason")]
    widths = [c.width for c in importer.columns] + [60]
    return write_rows(path, title=_("Rejected rows"), headers=headers, rows=rows(), widths=widths)
