"""The exporter's merged multi-row header (statistics tables): merges, frozen header, text cells only."""
from __future__ import annotations

from openpyxl import load_workbook

from app.io.xlsx import write_rows


def test_a_two_row_header_with_merged_cells_and_text_cells(tmp_path):
    path = str(tmp_path / "t.xlsx")
    cells = [(0, 0, 1, 0, "序号"), (0, 1, 0, 2, "当年总学习人数"), (1, 1, 1, 1, "总学习人数"), (1, 2, 1, 2, "网络学习人数")]
    written = write_rows(path, title="统计", headers=["序号", "当年总学习人数"], header_cells=cells,
                         rows=iter([[1, "=HYPERLINK(\"x\")", 3], [2, "+1", None]]), widths=[6, 20, 12])
    assert written == 2
    sheet = load_workbook(path).active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:A2", "B1:C1"}
    assert [c.value for c in sheet[1]] == ["序号", "当年总学习人数", None]
    assert [c.value for c in sheet[2]][1:] == ["总学习人数", "网络学习人数"]
    assert sheet["B3"].value == '=HYPERLINK("x")' and sheet["B3"].data_type == "s"
    assert sheet["B4"].data_type == "s" and sheet["A3"].value == 1
    assert sheet.freeze_panes == "A3"


def test_the_row_limit_ends_with_the_note(tmp_path):
    path = str(tmp_path / "t.xlsx")
    written = write_rows(path, title="统计", headers=["a"], header_cells=[(0, 0, 1, 0, "a")],
                         rows=iter([[i] for i in range(5)]), limit=3, note="仅导出前3行")
    sheet = load_workbook(path).active
    assert written == 3 and sheet["A6"].value == "仅导出前3行"
