"""The one spreadsheet writer: every .xlsx export of the portal (lead inbox, application queue,
claims, ledger, the dashboard's lists and charts) goes through :func:`write`.

- openpyxl write-only: rows stream to a temporary file, constant memory however many rows;
- Chinese headers, bold, with the unit in the header ("金额（万元）"), first row frozen;
- amounts are Decimals written as numbers to 2 places (half up) with a thousands-separator format;
- text is made safe: control characters (below U+0020, and DEL) are dropped, and a cell that a
  spreadsheet would read as a formula — starting with ``= + - @``, a tab, CR or LF — gets a
  leading apostrophe, so it is always shown as text and never run.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from . import money

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
MONEY_FORMAT = "#,##0.00"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_text(value):
    """Text as a spreadsheet will show it and never evaluate (anything but text as it is)."""
    if not isinstance(value, str):
        return value
    cleaned = _CONTROL.sub("", value)
    if value.startswith(FORMULA_START) or cleaned.startswith(FORMULA_START):
        return "'" + cleaned
    return cleaned


def cell_value(value):
    """A Python value → what goes in the cell: numbers stay numbers (Decimals to 2 places, half
    up), dates YYYY-MM-DD text, datetimes Beijing 'YYYY-MM-DD HH:MM', everything else safe text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return value.quantize(money.CENT, rounding=ROUND_HALF_UP)
    if isinstance(value, datetime):
        return money.format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def _write(handle, *, title: str, headers: list, rows: Iterable[Iterable]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=safe_text(str(title))[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, len(str(header)) * 2 + 4)
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=safe_text(str(header)))
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            v = cell_value(value)
            if isinstance(v, Decimal):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = MONEY_FORMAT
                cells.append(cell)
            else:
                cells.append(v)
        ws.append(cells)
    wb.save(handle)


def write(*, title: str, headers: list, rows: Iterable[Iterable], filename: str) -> FileResponse:
    """An .xlsx download of one sheet."""
    handle = tempfile.TemporaryFile()
    _write(handle, title=title, headers=headers, rows=rows)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX)


def write_bytes(*, title: str, headers: list, rows: Iterable[Iterable]) -> bytes:
    """The same workbook as bytes (for callers that build their own response)."""
    with tempfile.TemporaryFile() as handle:
        _write(handle, title=title, headers=headers, rows=rows)
        handle.seek(0)
        return handle.read()
