"""Building import files for tests: the template filled in with openpyxl, or deliberately broken files."""
from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

PERSON_HEADERS = ["身份证号", "姓名", "手机号码", "学历", "用人单位", "内设部门", "职称系列", "职称级别", "职称名称",
                  "取得时间"]


def workbook_bytes(rows, headers=PERSON_HEADERS, *, formula=None, merge=None, text_columns=(0, 2)) -> bytes:
    """A sheet with the header and rows (lists); optional formula cell (ref, text) and merged range."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    for index in text_columns:
        for cells in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            for cell in cells:
                cell.number_format = "@"
    if formula:
        ref, text = formula
        sheet[ref] = text
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_rows(data: bytes, sheet=0) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    ws = workbook.worksheets[sheet]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]
