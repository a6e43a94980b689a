"""The xlsx writer, the exporter's file names, import cell parsing and download headers."""
from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import load_workbook

from app.admin.downloads import content_disposition
from app.io.export import file_name
from app.io.imports import Column, parse_cell
from app.io.xlsx import cell, unique_headers, write_rows

DANGEROUS = ['=HYPERLINK("http://evil.example/","点")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
             "\t=1+1", "\r=1+1"]


def test_cells_beginning_like_formulas_are_written_as_text(tmp_path):
    path = str(tmp_path / "x.xlsx")
    write_rows(path, title="审计日志", headers=["内容", "数字"], rows=[[v, 1] for v in DANGEROUS])
    sheet = load_workbook(path).active
    values = [(c.value, c.data_type) for c in sheet["A"][1:]]
    for (value, data_type), original in zip(values, DANGEROUS):
        assert data_type == "s", original               # a string cell, never a formula ("f")
        # the text comes back as written (openpyxl shows a CR in its XML escape form)
        assert value.replace("_x000D_", "\r") == original
    with open(path, "rb") as fh:
        import zipfile

        xml = zipfile.ZipFile(fh).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml


def test_cell_values_are_plain():
    assert cell(None) == "" and cell(3) == 3 and cell(True) == "是"
    assert cell(datetime.date(2024, 1, 5)) == "2024-01-05"
    assert cell(datetime.datetime(2024, 1, 5, 8, 9, 10)) == "2024-01-05 08:09:10"
    assert cell("a\x00b\x07c") == "abc" and len(cell("x" * 40000)) == 32767


def test_headers_are_made_unique_and_an_empty_export_keeps_its_header(tmp_path):
    assert unique_headers(["姓名", "姓名", "单位"]) == ["姓名", "姓名2", "单位"]
    path = str(tmp_path / "empty.xlsx")
    assert write_rows(path, title="空", headers=["甲", "乙"], rows=[]) == 0
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0] == ("甲", "乙")


def test_limit_writes_a_note_row(tmp_path):
    path = str(tmp_path / "cap.xlsx")
    assert write_rows(path, title="t", headers=["a"], rows=([i] for i in range(10)), limit=3, note="仅导出前3行") == 3
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == 5 and rows[-1][0] == "仅导出前3行"


def test_export_file_name_carries_title_and_date():
    assert file_name("专技人员", datetime.date(2026, 12, 1)) == "专技人员_20261201.xlsx"
    assert file_name('a/b:c*"', datetime.date(2026, 1, 2)) == "abc_20260102.xlsx"


def test_content_disposition_encodes_chinese_names_and_drops_path_tricks():
    header = content_disposition("职称证书.pdf")
    assert header.startswith("attachment; ")
    assert "filename*=UTF-8''%E8%81%8C%E7%A7%B0%E8%AF%81%E4%B9%A6.pdf" in header
    assert 'filename="download.pdf"' in header
    evil = content_disposition('a"\r\nSet-Cookie: x=1;.pdf')
    assert "\r" not in evil and "\n" not in evil and evil.count('"') == 2


@pytest.mark.parametrize("kind,value,expected", [
    ("id_number", "420106198001010015", "420106198001010015"),
    ("id_number", " 42010219900601003x ", "42010219900601003X"),
    ("mobile", 13800138000.0, "13800138000"),
    ("date", datetime.datetime(2020, 1, 15), datetime.date(2020, 1, 15)),
    ("date", "2020/1/5", datetime.date(2020, 1, 5)),
    ("date", "2020年1月5日", datetime.date(2020, 1, 5)),
    ("date", "20200105", datetime.date(2020, 1, 5)),
    ("text", "  张三 ", "张三"),
    ("text", "", None),
])
def test_cells_parse_by_kind(kind, value, expected):
    assert parse_cell(Column("x", "列", kind), value, {}) == expected


@pytest.mark.parametrize("column,value,reason", [
    (Column("x", "身份证号", "id_number"), 4.20106198001e17, "文本格式"),
    (Column("x", "身份证号", "id_number"), "420106198001010016", "校验位"),
    (Column("x", "手机号码", "mobile"), "12345", "手机号码"),
    (Column("x", "取得时间", "date"), "2020-13-01", "日期格式"),
    (Column("x", "学历", "choice", choices=lambda: ["大学本科"]), "小学", "下拉列表"),
    (Column("x", "姓名", required=True), "  ", "必填"),
    (Column("x", "姓名", max_length=3), "欧阳测试者", "最多"),
])
def test_bad_cells_get_a_chinese_reason(app_ctx, column, value, reason):
    choices = {"x": set(column.choices())} if column.choices else {}
    with app_ctx.test_request_context():
        with pytest.raises(ValueError) as info:
            parse_cell(column, value, choices)
    assert reason in str(info.value)


def _spec(rows):
    from app.io.export import ExportSpec

    return ExportSpec(title="测试", headers=["甲", "乙"], rows=rows, count=lambda cap: 0)


def test_the_exporter_caps_rows_and_notes_it(app, monkeypatch):
    import os

    from app.io.export import write_export

    monkeypatch.setitem(app.config, "EXPORT_MAX_ROWS", 3)
    with app.test_request_context():
        path, written = write_export(_spec(lambda: ([str(i), i] for i in range(10))))
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    os.remove(path)
    assert written == 3 and len(rows) == 5 and "3" in rows[-1][0]


def test_an_error_while_reading_rows_reaches_the_writer_and_leaves_no_file(app, tmp_path, monkeypatch):
    import tempfile

    from app.io.export import write_export

    def rows():
        yield ["1", 1]
        raise RuntimeError("数据库断开")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="数据库断开"):
            write_export(_spec(rows))
    assert list(tmp_path.iterdir()) == []
