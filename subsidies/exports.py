"""Claims and the ledger as .xlsx for the finance bureau (portal.spreadsheet, the one writer):
Chinese headers, money in 元 with two decimals, text cells made safe against formula injection."""

from __future__ import annotations

from django.utils import timezone

from portal import spreadsheet

#: The one guard (portal.spreadsheet), kept under its old name for callers.
safe = spreadsheet.safe_text


def _book(title: str, headers: list[str], rows, money_columns: set[int] | None = None) -> bytes:
    """Through the one writer: Decimals are written as numbers with a thousands format."""
    return spreadsheet.write_bytes(title=title, headers=headers, rows=rows)


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _person(user) -> str:
    return user.display_name if user is not None else ""


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
        "初审人",
        "初审时间",
        "审批人",
        "审批时间",
        "拨付人",
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
            _person(c.reviewed_by),
            _local(c.reviewed_at),
            _person(c.approved_by),
            _local(c.approved_at),
            _person(c.paid_by),
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
        "制单人",
        "复核人",
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
            _person(e.maker),
            _person(e.checker),
            e.note,
        ]
        for e in entries
    )
    return _book("财政资金台账", headers, rows, {7})
