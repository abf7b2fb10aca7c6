"""Claims and the ledger as .xlsx for the finance bureau: Chinese headers, money in 元 with two
decimals, and text cells made safe against formula injection."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from portal.text import xlsx_text

MONEY_FORMAT = "#,##0.00"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    """A text cell starting with = + - @ (or a tab/CR) is prefixed with an apostrophe so a
    spreadsheet never runs it as a formula; control characters are dropped."""
    value = xlsx_text(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _book(title: str, headers: list[str], rows, money_columns: set[int]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, Decimal):
                cells.append(value.quantize(Decimal("0.01")))
            else:
                cells.append(safe(value))
        ws.append(cells)
    for col in money_columns:
        letter = get_column_letter(col)
        for cell in ws[letter][1:]:
            cell.number_format = MONEY_FORMAT
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, len(header) * 2 + 4)
    ws.freeze_panes = "A2"
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def claims_xlsx(claims) -> bytes:
    headers = [
        "申领编号",
        "类型",
        "政策",
        "政策版本",
        "年度",
        "期间起",
        "期间止",
        "企业",
        "机构",
        "贷款编号",
        "核定金额（元）",
        "状态",
        "收款户名",
        "开户行",
        "收款账号",
        "未批准原因",
        "生成时间",
        "审核时间",
        "拨付时间",
    ]
    rows = (
        [
            c.pk,
            c.get_kind_display(),
            c.policy.name,
            c.policy.version,
            c.year,
            c.period_start.isoformat(),
            c.period_end.isoformat(),
            c.enterprise.name if c.enterprise_id else "",
            c.institution.name if c.institution_id else "",
            c.loan_id or "",
            c.amount,
            c.get_status_display(),
            c.payee_name,
            c.payee_bank,
            c.payee_account,
            c.reject_reason,
            _local(c.created_at),
            _local(c.reviewed_at),
            _local(c.paid_at),
        ]
        for c in claims
    )
    return _book("补贴申领", headers, rows, {11})


def ledger_xlsx(entries) -> bytes:
    headers = [
        "分录编号",
        "时间",
        "预算年度",
        "政策",
        "政策版本",
        "类型",
        "金额（元）",
        "申领编号",
        "企业/机构",
        "经办人",
        "摘要",
    ]
    rows = (
        [
            e.pk,
            _local(e.at),
            e.year,
            e.policy.name,
            e.policy.version,
            e.get_kind_display(),
            e.amount,
            e.claim_id or "",
            (e.claim.enterprise.name if e.claim and e.claim.enterprise_id else "")
            or (e.claim.institution.name if e.claim and e.claim.institution_id else ""),
            e.by.display_name if e.by_id else "",
            e.note,
        ]
        for e in entries
    )
    return _book("财政资金台账", headers, rows, {7})
