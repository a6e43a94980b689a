"""The .xlsx template of an import: Chinese header, drop-downs, text-formatted code columns, instructions.

Sheet 1 (the data sheet) holds only the header row, so an untouched template imports nothing; the
instruction sheet explains every column and shows an example row under the same header; the option
lists of the drop-downs live on a hidden third sheet (a list longer than 255 characters cannot be
written inline in a data validation).
"""
from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.io.imports import Importer

#: rows of the data sheet that get drop-downs and text formats
PREPARED_ROWS = 5000


def build_template(importer: Importer) -> bytes:
    workbook = Workbook()
    data = workbook.active
    data.title = _("Data")
    guide = workbook.create_sheet(_("Instructions"))
    options = workbook.create_sheet(_("Options"))
    options.sheet_state = "hidden"
    bold, red = Font(bold=True), Font(bold=True, color="C00000")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(importer.columns, start=1):
        letter = get_column_letter(index)
        head = data.cell(row=1, column=index, value=str(column.header))
        head.font = red if column.required else bold
        head.fill = header_fill
        data.column_dimensions[letter].width = column.width
        if column.kind in ("id_number", "mobile", "text"):
            for row in range(2, PREPARED_ROWS + 2):
                data.cell(row=row, column=index).number_format = "@"
        elif column.kind == "date":
            for row in range(2, PREPARED_ROWS + 2):
                data.cell(row=row, column=index).number_format = "yyyy-mm-dd"
        suggested = column.kind != "choice" and column.suggestions is not None
        if (column.kind == "choice" and column.choices) or suggested:
            values = column.suggestions() if suggested else column.choices()
            if not values:
                continue
            option_col = get_column_letter(index)
            options.cell(row=1, column=index, value=str(column.header))
            for offset, value in enumerate(values, start=2):
                options.cell(row=offset, column=index, value=value)
            title = options.title
            rule = DataValidation(type="list", formula1=f"='{title}'!${option_col}$2:${option_col}${len(values) + 1}",
                                  allow_blank=not column.required, showErrorMessage=True,
                                  errorStyle="warning" if suggested else "stop",
                                  errorTitle=_("Invalid value"), error=_("Please choose a value from the list"))
            rule.add(f"{letter}2:{letter}{PREPARED_ROWS + 1}")
            data.add_data_validation(rule)
    data.freeze_panes = "A2"

    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 90
    guide.append([str(importer.title) + _("import template: instructions")])
    guide["A1"].font = Font(bold=True, size=14)
    for line in importer.instructions:
        guide.append([str(line)])
    guide.append([])
    guide.append([_("Column"), _("Required"), _("How to fill it in")])
    for cell in guide[guide.max_row]:
        cell.font = bold
    for column in importer.columns:
        note = str(column.note or "")
        if column.kind == "choice" and column.choices:
            note = (note + " " if note else "") + _("Choose from the drop-down list: %(values)s",
                                                    values="、".join(column.choices()[:40]))
        guide.append([str(column.header), _("Yes") if column.required else _("No"), note])
        guide.cell(row=guide.max_row, column=3).alignment = Alignment(wrap_text=True)
    guide.append([])
    guide.append([_("Example (fill in the sheet “%(sheet)s”; the example itself is not imported)", sheet=data.title)])
    guide[f"A{guide.max_row}"].font = bold
    guide.append([str(c.header) for c in importer.columns])
    for cell in guide[guide.max_row]:
        cell.font = bold
        cell.fill = header_fill
    example_row = guide.max_row + 1
    for index, column in enumerate(importer.columns, start=1):
        cell = guide.cell(row=example_row, column=index, value=column.example)
        cell.number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
