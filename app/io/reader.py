"""Reading an import file: refuse anything that is not a plain, well-formed sheet, then read it with calamine.

Checks, each with a clear Chinese message and before anything is written: a real .xlsx (a zip holding a
workbook, bounded like any uploaded archive — a renamed image or a zip bomb is refused), a first sheet
with the template's header, at most ``IMPORT_MAX_ROWS`` data rows (a sheet of 1,048,576 rows is refused
from its dimension, without reading it), no formulas and no merged cells (their cells would import as
something other than what the user sees). The data is read by pandas with the calamine engine as text
and numbers; the columns' own parsing happens in ``app/io/imports.py``.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Optional, Sequence

from flask import current_app
from flask_babel import gettext as _

from app.errors import InvalidInput

_SHEET_REL = re.compile(rb'<sheet\b[^>]*?r:id="([^"]+)"')
_REL = re.compile(rb'<Relationship\b[^>]*?>')
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_FORMULA = re.compile(rb'<f[\s>/]')
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]+\d+)"')
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
_LAST_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"')


@dataclass
class Sheet:
    """The data rows of an import file: Excel row number and the cell values, in template column order."""

    rows: list[tuple[int, list]]


def not_xlsx() -> InvalidInput:
    return InvalidInput(_("The file is not a valid Excel workbook (.xlsx); please fill in the downloaded template"))


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        raise not_xlsx() from None
    match = _SHEET_REL.search(workbook)
    if match is None:
        raise InvalidInput(_("The workbook has no sheet"))
    wanted = match.group(1)
    for rel in _REL.findall(rels):
        attrs = dict(_ATTR.findall(rel))
        if attrs.get(b"Id") == wanted:
            target = attrs.get(b"Target", b"").decode()
            target = target.lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    raise not_xlsx()


def inspect_workbook(fileobj: BinaryIO, max_rows: int) -> int:
    """Structural checks of the first sheet; returns its last row number (from its dimension or rows)."""
    from app.services.attachments import check_content

    fileobj.seek(0)
    if fileobj.read(4) != b"PK\x03\x04":
        raise not_xlsx()
    try:
        check_content("xlsx", fileobj)
    except InvalidInput:
        raise not_xlsx() from None
    fileobj.seek(0)
    with zipfile.ZipFile(fileobj) as archive:
        path = _first_sheet_path(archive)
        try:
            xml = archive.read(path)
        except KeyError:
            raise not_xlsx() from None
    last = 0
    dimension = _DIMENSION.search(xml[:4096])
    if dimension is not None:
        last = int(dimension.group(4) or dimension.group(2))
    rows = _LAST_ROW.findall(xml[-65536:])
    if rows:
        last = max(last, int(rows[-1]))
    if last - 1 > max_rows:
        raise InvalidInput(_("The sheet has %(n)s rows; one import takes at most %(max)s data rows. Please split the file",
                             n="{:,}".format(last), max="{:,}".format(max_rows)))
    formula = _FORMULA.search(xml)
    if formula is not None:
        refs = _CELL_REF.findall(xml, max(0, formula.start() - 400), formula.start())
        cell = refs[-1].decode() if refs else "?"
        raise InvalidInput(_("The sheet contains formulas (cell %(cell)s); please paste the values only and import again",
                             cell=cell))
    merged = _MERGE.search(xml)
    if merged is not None:
        raise InvalidInput(_("The sheet contains merged cells (%(cells)s); please unmerge them and import again",
                             cells=merged.group(1).decode()))
    fileobj.seek(0)
    return last


def read_sheet(fileobj: BinaryIO, headers: Sequence[str], max_rows: Optional[int] = None) -> Sheet:
    """Checked rows of the first sheet under the template's header (row 1); blank rows are left out."""
    import pandas as pd

    max_rows = max_rows or int(current_app.config.get("IMPORT_MAX_ROWS", 100_000))
    inspect_workbook(fileobj, max_rows)
    try:
        frame = pd.read_excel(fileobj, sheet_name=0, header=None, dtype=object, engine="calamine",
                              nrows=max_rows + 1, na_filter=False)
    except Exception:  # noqa: BLE001 - calamine raises several kinds on a damaged workbook
        raise not_xlsx() from None
    if frame.shape[0] == 0:
        raise InvalidInput(_("The sheet is empty; please fill in the template"))
    found = [str(v).strip() for v in frame.iloc[0].tolist()]
    expected = [str(h) for h in headers]
    found += [""] * (len(expected) - len(found))
    for index, header in enumerate(expected):
        if found[index] != header:
            raise InvalidInput(_("The header does not match the template: column %(col)s should be “%(want)s” but is “%(got)s”. "
                                 "Please use the downloaded template", col=column_letter(index), want=header,
                                 got=found[index] or _("(blank)")))
    width = len(expected)
    rows = []
    for offset, values in enumerate(frame.iloc[1:, :width].itertuples(index=False, name=None), start=2):
        values = list(values) + [""] * (width - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        rows.append((offset, values))
    if not rows:
        raise InvalidInput(_("The sheet has no data rows below the header"))
    return Sheet(rows=rows)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
