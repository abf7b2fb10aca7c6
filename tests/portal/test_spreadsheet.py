"""The one spreadsheet writer (portal.spreadsheet): one formula-injection guard, control characters
dropped, numbers as numbers; and no export builds a workbook of its own."""

import io
import pathlib
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal import spreadsheet

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'=1+1"),
        ("\r=1+1", "'=1+1"),
        ("\n=1+1", "'=1+1"),
        ("\x01=1+1", "'=1+1"),  # a control character hiding the formula is dropped, then guarded
        ("山西\x00晋科\x1f", "山西晋科"),
        ("太原一号 = 好企业", "太原一号 = 好企业"),
    ],
)
def test_the_guard_covers_every_formula_start_and_drops_control_characters(raw, shown):
    assert spreadsheet.safe_text(raw) == shown


def test_a_workbook_has_chinese_headers_numbers_and_safe_text():
    content = spreadsheet.write_bytes(
        title="测试",
        headers=["企业名称", "金额（万元）", "日期"],
        rows=[["\n=cmd|' /C calc'!A0", Decimal("1234.565"), date(2026, 1, 2)], ["甲", 3, None]],
    )
    ws = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in ws[1]] == ["企业名称", "金额（万元）", "日期"]
    assert ws["A2"].value == "'=cmd|' /C calc'!A0" and ws["A2"].data_type != "f"
    assert ws["B2"].value == pytest.approx(1234.57) and ws["B2"].number_format == "#,##0.00"
    assert ws["C2"].value == "2026-01-02"


def test_no_export_builds_a_workbook_of_its_own():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/*.py")
        if ".venv" not in path.parts
        and "tests" not in path.parts
        and "node_modules" not in path.parts
        and path.name != "spreadsheet.py"
        and "Workbook(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
