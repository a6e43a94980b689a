"""Excel exports never write a live formula (issue 8, finding 7)."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.conftest import PROVINCE_ID
from tests.web.test_public_registration import register_person, reject

DANGEROUS = ['=HYPERLINK("http://evil.example/","点")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
             "\t=1+1", "\r=1+1"]


def _cells(fileobj):
    sheet = load_workbook(fileobj).active
    return [cell for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("text", DANGEROUS)
def test_exported_text_that_starts_a_formula_is_written_as_text(text, tmp_path):
    """Finding 7: a cell beginning with = + - @ tab or CR is a string cell, shown as entered."""
    from app.io.xlsx import write_rows

    path = str(tmp_path / "export.xlsx")
    write_rows(path, title="测试", headers=["名称", "数值", "空"], rows=[[text, 42, None]])
    cells = _cells(path)
    data = [c for c in cells if c.row == 2]
    # a string cell holding exactly the text (OOXML escapes a CR as _x000D_, which spreadsheets read back as CR)
    assert data[0].data_type == "s" and data[0].value.replace("_x000D_", "\r").strip() == text.strip()
    assert data[1].value == 42 and data[1].data_type == "n"    # numbers stay numbers
    assert not any(c.data_type == "f" for c in cells)


def test_audit_export_of_a_hostile_registration_has_no_formula(app, fresh_world, client_for):
    """Finding 7: a public registrant's name and a reject reason beginning with '=' stay text in
    /auditlog/export/."""
    name = '=HYPERLINK("http://evil.example/","点")'
    reason = "=cmd|' /C calc'!A0"
    _, request_id = register_person(app, seq=71, name=name)
    province = client_for(PROVINCE_ID)
    reject(province, "person_registration", request_id, reason)
    response = province.get("/auditlog/export/")
    assert response.status_code == 200
    cells = _cells(io.BytesIO(response.data))
    values = {c.value for c in cells}
    assert name in values and reason in values
    assert not any(c.data_type == "f" for c in cells)
